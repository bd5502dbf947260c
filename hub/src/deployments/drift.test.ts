import { describe, expect, it } from 'vitest';
import { DriftSchema } from '@cuttle/shared';
import { driftOf } from './drift.js';

const record = { release: '1.1.0', installedPackage: true };
const reported = '2026-01-01T00:00:00.000Z';

describe('drift', () => {
  it.each([
    ['no record', null, reported, { release: '1.1.0', reportedAt: reported }, 'unknown'],
    ['a record but never reported', record, null, null, 'unknown'],
    ['the disk holds the recorded release', record, reported, { release: '1.1.0', reportedAt: reported }, 'in-sync'],
    ['the disk holds another release', record, reported, { release: '1.0.0', reportedAt: reported }, 'drifted'],
    ['the app is missing though a package was installed', record, reported, null, 'drifted'],
    ['the app has no current release though a package was installed', record, reported, { release: null, reportedAt: reported }, 'drifted'],
    ['no app and no package installed (scripts only)', { release: '1.1.0', installedPackage: false }, reported, null, 'unknown'],
    ['a job result but no inventory yet', record, null, { release: '1.1.0', reportedAt: reported }, 'in-sync'],
  ] as const)('is right when there is %s', (_what, rec, lastReport, app, state) => {
    const drift = DriftSchema.parse(driftOf(rec, lastReport, app));
    expect(drift.state).toBe(state);
    expect(drift.onDisk).toBe(app?.release ?? null);
  });
});
