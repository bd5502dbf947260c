import { describe, expect, it } from 'vitest';
import type { Step } from '@cuttle/shared';
import { describeError } from '../cli-error.js';
import { project, release, sendError, sendJson } from '../test-support/fake-hub.js';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { fakeProjects, type FakeProjects } from '../test-support/fake-projects.js';
import { createTestIo, failure, testContext } from '../test-support/test-io.js';
import { parsePackagePins, runCreateRelease, runListReleases, runShowRelease } from './release.js';

const SMOKE_TEST: Step = { name: 'Smoke test', type: 'run-script', roles: ['web-server'], script: 'curl -f http://localhost/\n' };
const STEPS: Step[] = [
  { name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web-server'] },
  { name: 'Deploy db', type: 'deploy-package', package: 'Acme.Db', roles: ['db-server'] },
  SMOKE_TEST,
];

/** A fake hub with project Acme (two packages) and a catalog of versions. */
function acme(): FakeProjects {
  const fake = fakeProjects({ apiKey: 'admin-key', packages: { 'Acme.Web': ['1.3.0', '1.4.0', '1.5.0-beta.1'], 'Acme.Db': ['2.0.0', '2.0.1'] } });
  fake.projects.set('Acme', project({ steps: STEPS }));
  return fake;
}

describe('parsePackagePins', () => {
  it('takes Id:Version and Id@Version, repeated or comma-separated', () => {
    expect(parsePackagePins(['Acme.Web:1.4.0', 'Acme.Db@2.0.1,payments-api:2.0.0-beta.3+build.7'])).toEqual({
      'Acme.Web': '1.4.0',
      'Acme.Db': '2.0.1',
      'payments-api': '2.0.0-beta.3+build.7',
    });
    expect(parsePackagePins([])).toEqual({});
  });

  it('refuses a missing version, a bad id or version, and an id named twice (exit 2)', () => {
    const report = (values: string[]) => {
      try {
        parsePackagePins(values);
      } catch (error) {
        return describeError(error);
      }
      throw new Error('expected a failure');
    };
    expect(report(['Acme.Web'])).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(report(['Acme..Web:1.0.0'])).toMatchObject({ exitCode: 2, code: 'invalid-package-id' });
    expect(report([':1.0.0'])).toMatchObject({ exitCode: 2, code: 'invalid-package-id' });
    expect(report(['Acme.Web:1.4'])).toMatchObject({ exitCode: 2, code: 'invalid-version', details: { version: '1.4' } });
    expect(report(['Acme.Web@'])).toMatchObject({ exitCode: 2, code: 'invalid-version' });
    expect(report(['Acme.Web:1.4.0', 'acme.web@1.5.0'])).toMatchObject({ exitCode: 2, code: 'invalid-option' });
  });
});

describe('cuttle release create', () => {
  const setup = fakeHubSetup({ apiKey: 'admin-key' });

  it('sends the pinned packages, version and notes; prints the release and its packages', async () => {
    const fake = acme();
    const { ctx, stdout, hub } = await setup(fake.handler);
    await runCreateRelease(ctx, { project: 'Acme', version: '1.4.0', packages: ['Acme.Web:1.4.0', 'Acme.Db@2.0.0'], notes: 'DEV-123 checkout fix' });
    expect(hub.requests[0]).toMatchObject({ method: 'POST' });
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/projects/Acme/releases');
    expect(hub.requests[0]?.headers['x-api-key']).toBe('admin-key');
    expect(fake.bodies).toEqual([{ version: '1.4.0', packages: { 'Acme.Web': '1.4.0', 'Acme.Db': '2.0.0' }, notes: 'DEV-123 checkout fix' }]);
    expect(stdout()).toBe('created release Acme 1.4.0 (Acme.Web 1.4.0, Acme.Db 2.0.0)\n');
  });

  it('without options sends {}: the hub picks the next patch and the newest packages', async () => {
    const fake = acme();
    const { ctx, stdout } = await setup(fake.handler);
    await runCreateRelease(ctx, { project: 'Acme' });
    await runCreateRelease(ctx, { project: 'Acme', packages: [] });
    expect(fake.bodies).toEqual([{}, {}]);
    expect(stdout()).toBe('created release Acme 0.0.1 (Acme.Web 1.5.0-beta.1, Acme.Db 2.0.1)\ncreated release Acme 0.0.2 (Acme.Web 1.5.0-beta.1, Acme.Db 2.0.1)\n');
  });

  it('a project without packages says so; --json prints the Release', async () => {
    const fake = fakeProjects({ apiKey: 'admin-key' });
    fake.projects.set('Scripts', project({ name: 'Scripts', steps: [SMOKE_TEST] }));
    const text = await setup(fake.handler);
    await runCreateRelease(text.ctx, { project: 'Scripts' });
    expect(text.stdout()).toBe('created release Scripts 0.0.1 (no packages)\n');
    const json = await setup(acme().handler, true);
    const created = await runCreateRelease(json.ctx, { project: 'Acme', packages: ['Acme.Web:1.3.0'] });
    expect(JSON.parse(json.stdout())).toEqual(created);
    expect(created).toMatchObject({ project: 'Acme', version: '0.0.1', packages: [{ id: 'Acme.Web', version: '1.3.0' }, { id: 'Acme.Db', version: '2.0.1' }], steps: STEPS });
  });

  it('bad input is exit 2 before any request', async () => {
    const { ctx, hub } = await setup(acme().handler);
    expect(await failure(runCreateRelease(ctx, { project: 'my project' }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runCreateRelease(ctx, { project: 'Acme', version: 'v1.0.0' }))).toMatchObject({ exitCode: 2, code: 'invalid-version' });
    expect(await failure(runCreateRelease(ctx, { project: 'Acme', packages: ['Acme.Web=1.4.0'] }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runCreateRelease(ctx, { project: 'Acme', packages: ['Acme/Web:1.4.0'] }))).toMatchObject({ exitCode: 2, code: 'invalid-package-id' });
    expect(await failure(runCreateRelease(ctx, { project: 'Acme', packages: ['Acme.Web:latest'] }))).toMatchObject({ exitCode: 2, code: 'invalid-version' });
    expect(await failure(runCreateRelease(ctx, { project: 'Acme', notes: 'x'.repeat(10_001) }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(hub.requests).toHaveLength(0);
  });

  it('409 release-exists and 404 project-not-found are exit 1; 400 unknown-package exit 2; 401 exit 3', async () => {
    const fake = acme();
    const { ctx, hub } = await setup(fake.handler);
    await runCreateRelease(ctx, { project: 'Acme', version: '1.0.0' });
    expect(await failure(runCreateRelease(ctx, { project: 'Acme', version: '1.0.0' }))).toEqual({
      exitCode: 1,
      code: 'release-exists',
      message: 'Acme already has a release 1.0.0.',
      details: { project: 'Acme', version: '1.0.0' },
    });
    expect(await failure(runCreateRelease(ctx, { project: 'Nope' }))).toEqual({
      exitCode: 1,
      code: 'project-not-found',
      message: 'No project is named "Nope".',
      details: { name: 'Nope' },
    });
    expect(await failure(runCreateRelease(ctx, { project: 'Acme', packages: ['Acme.Web:9.9.9'] }))).toMatchObject({
      exitCode: 2,
      code: 'unknown-package',
      message: 'There is no package Acme.Web 9.9.9 on the hub.',
    });
    expect(await failure(runCreateRelease(ctx, { project: 'Acme', packages: ['Other.App:1.0.0'] }))).toMatchObject({ exitCode: 2, code: 'unknown-package', details: { packages: ['Other.App'] } });
    const t = createTestIo({ cwd: '/' });
    expect(await failure(runCreateRelease(testContext(t.io, { hub: hub.url, apiKey: 'stale' }), { project: 'Acme' }))).toMatchObject({ exitCode: 3, code: 'unauthorized' });
    expect(fake.releases.get('Acme')).toHaveLength(1);
  });

  it('the hub\'s 400 invalid-version keeps its details.fields', async () => {
    const fields = [{ field: 'version', message: 'not SemVer 2' }];
    const { ctx } = await setup((req, res) => {
      req.resume();
      sendError(res, 400, 'invalid-version', '"x" is not a valid SemVer 2 release version.', { fields });
    });
    expect(await failure(runCreateRelease(ctx, { project: 'Acme' }))).toMatchObject({ exitCode: 2, code: 'invalid-version', details: { fields } });
  });
});

describe('cuttle release list and show', () => {
  const setup = fakeHubSetup({ apiKey: 'admin-key' });
  const items = [
    release({ version: '0.0.2', createdAt: '2025-02-01T08:00:00.000Z', createdBy: null, notes: 'DEV-124 faster checkout\nand more', packages: [] }),
    release({ notes: 'first' }),
  ];

  it('list: newest first (the hub\'s order) as a table of version, created, by, packages, notes', async () => {
    const { ctx, stdout, hub } = await setup((_req, res) => sendJson(res, 200, { items }));
    await runListReleases(ctx, 'Acme');
    expect(hub.requests[0]).toMatchObject({ method: 'GET' });
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/projects/Acme/releases');
    expect(stdout().split('\n')).toEqual([
      'VERSION  CREATED               BY  PACKAGES        NOTES',
      '0.0.2    2025-02-01 08:00:00Z  -   -               DEV-124 faster checkout …',
      '0.0.1    2025-01-31 14:05:09Z  ci  Acme.Web 1.4.0  first',
      '',
    ]);
  });

  it('list --json prints {items}; an empty list says how to create one; 404 is exit 1', async () => {
    const fake = acme();
    const json = await setup(fake.handler, true);
    await runCreateRelease(json.ctx, { project: 'Acme', version: '1.0.0' });
    await runCreateRelease(json.ctx, { project: 'Acme' });
    const lines = json.jsonLines();
    await runListReleases(json.ctx, 'Acme');
    expect(json.jsonLines().at(-1)).toEqual({ items: [lines[1], lines[0]] });
    expect(await failure(runListReleases(json.ctx, 'Nope'))).toMatchObject({ exitCode: 1, code: 'project-not-found' });

    const empty = await setup(acme().handler);
    await runListReleases(empty.ctx, 'Acme');
    expect(empty.stdout()).toBe('no releases of Acme; create one with: cuttle release create --project Acme\n');
  });

  it('show: fields, packages and the snapshotted steps; --json prints the Release', async () => {
    const shown = release({ version: '1.4.0+build.7', notes: 'DEV-123\nfixes checkout', steps: STEPS });
    const { ctx, stdout, hub } = await setup((_req, res) => sendJson(res, 200, shown));
    await runShowRelease(ctx, 'Acme', '1.4.0+build.7');
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/projects/Acme/releases/1.4.0%2Bbuild.7');
    expect(stdout()).toBe(
      [
        'project:  Acme',
        'version:  1.4.0+build.7',
        'created:  2025-01-31 14:05:09Z',
        'by:       ci',
        'notes:',
        '  DEV-123',
        '  fixes checkout',
        'packages:',
        `  Acme.Web 1.4.0  1.2 KiB  sha256 ${'a'.repeat(12)}`,
        'steps (3):',
        '  1. Deploy web (deploy-package): Acme.Web on web-server',
        '  2. Deploy db (deploy-package): Acme.Db on db-server',
        '  3. Smoke test (run-script) on web-server',
        '       curl -f http://localhost/',
        '',
      ].join('\n'),
    );
    const json = await setup((_req, res) => sendJson(res, 200, shown), true);
    await runShowRelease(json.ctx, 'Acme', '1.4.0+build.7');
    expect(JSON.parse(json.stdout())).toEqual(shown);
  });

  it('show: 404 release-not-found is exit 1; a bad version or project exit 2 before any request', async () => {
    const fake = acme();
    const { ctx, hub } = await setup(fake.handler);
    expect(await failure(runShowRelease(ctx, 'Acme', '9.9.9'))).toEqual({
      exitCode: 1,
      code: 'release-not-found',
      message: 'Acme has no release 9.9.9.',
      details: { project: 'Acme', version: '9.9.9' },
    });
    expect(await failure(runShowRelease(ctx, 'Acme', 'latest'))).toMatchObject({ exitCode: 2, code: 'invalid-version' });
    expect(await failure(runShowRelease(ctx, '', '1.0.0'))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(hub.requests).toHaveLength(1);
  });
});
