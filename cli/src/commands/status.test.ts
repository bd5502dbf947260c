import type { Dashboard, StatusRow } from '@cuttle/shared';
import { describe, expect, it } from 'vitest';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { fakeDeployments } from '../test-support/fake-deployments.js';
import { failure } from '../test-support/test-io.js';
import { runDashboard } from './dashboard.js';
import { formatDrift, runStatus } from './status.js';

const ADMIN = 'admin-key';

function row(overrides: Partial<StatusRow>): StatusRow {
  return {
    project: 'Acme',
    environment: 'Test',
    machine: 'web-01',
    online: true,
    release: '1.4.0',
    deployedAt: '2025-02-01T09:00:00.000Z',
    taskId: 12,
    drift: { state: 'in-sync', onDisk: '1.4.0', reportedAt: '2025-02-01T09:05:00.000Z' },
    lastAttempt: { release: '1.4.0', deploymentId: 7, taskId: 12, state: 'success', error: null, at: '2025-02-01T09:00:00.000Z' },
    ...overrides,
  };
}

const ROWS: StatusRow[] = [
  row({ environment: 'Test', machine: 'web-02', online: false, drift: { state: 'drifted', onDisk: '1.0.2', reportedAt: null } }),
  row({ project: 'Billing', environment: 'Production', machine: 'db-01', release: null, deployedAt: null, taskId: null, drift: { state: 'unknown', onDisk: null, reportedAt: null }, lastAttempt: null }),
  row({
    machine: 'web-01',
    lastAttempt: { release: '1.4.1', deploymentId: 8, taskId: 13, state: 'failed', error: `Deploy.sh exited with code 3:\n${'x'.repeat(80)}`, at: '2025-02-01T10:00:00.000Z' },
  }),
];

describe('cuttle status', () => {
  const setup = fakeHubSetup({ apiKey: ADMIN });

  it('a table sorted by project, environment and machine; drifted rows stand out and are named under it', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, status: ROWS });
    const { ctx, stdout, hub } = await setup(fake.handler);
    await runStatus(ctx, {});
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/status');
    expect(hub.requests[0]?.url.search).toBe('');
    expect(stdout().split('\n')).toEqual([
      'PROJECT  ENVIRONMENT  MACHINE  RELEASE  DEPLOYED              STATUS   DRIFT                  LAST ATTEMPT',
      'Acme     Test         web-01   1.4.0    2025-02-01 09:00:00Z  online   in sync                failed 1.4.1: Deploy.sh exited with code 3: xxxxxxxxxxxxxxxxxxxxxxxxxxxxx…',
      'Acme     Test         web-02   1.4.0    2025-02-01 09:00:00Z  offline  drifted (disk: 1.0.2)  success 1.4.0',
      'Billing  Production   db-01    -        -                     online   unknown                -',
      '',
      "1 drifted: the release on disk differs from the hub's record on web-02 (Acme Test); deploy again to bring it back in line",
      '',
    ]);
  });

  it('filters go to the hub as query parameters; --json prints {items}; nothing matching says so', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, status: ROWS });
    const json = await setup(fake.handler, true);
    await runStatus(json.ctx, { project: 'Acme', environment: 'Test', machine: 'web-02' });
    expect(Object.fromEntries(json.hub.requests[0]?.url.searchParams ?? [])).toEqual({ project: 'Acme', environment: 'Test', machine: 'web-02' });
    expect(json.jsonLines()).toEqual([{ items: [ROWS[0]] }]);
    const text = await setup(fake.handler);
    await runStatus(text.ctx, { machine: 'web-99' });
    expect(text.stdout()).toBe('nothing matches\n');
    const empty = await setup(fakeDeployments({ apiKey: ADMIN }).handler);
    await runStatus(empty.ctx, {});
    expect(empty.stdout()).toBe('nothing deployed yet; deploy with: cuttle deploy --project P --release V --environment E --wait\n');
  });

  it('bad filters are exit 2 before any request', async () => {
    const { ctx, hub } = await setup(fakeDeployments({ apiKey: ADMIN }).handler);
    expect(await failure(runStatus(ctx, { machine: 'web 01' }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runStatus(ctx, { environment: '' }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(hub.requests).toHaveLength(0);
  });

  it('drift reads as in sync, drifted (disk: X), drifted (disk: none) or unknown', () => {
    expect(formatDrift({ state: 'in-sync', onDisk: '1.0.0', reportedAt: null })).toBe('in sync');
    expect(formatDrift({ state: 'drifted', onDisk: null, reportedAt: null })).toBe('drifted (disk: none)');
    expect(formatDrift({ state: 'unknown', onDisk: null, reportedAt: null })).toBe('unknown');
  });
});

describe('cuttle dashboard', () => {
  const setup = fakeHubSetup({ apiKey: ADMIN });
  const latest = (release: string, state: 'success' | 'failed' | 'running') => ({ release, deploymentId: 1, taskId: 2, state, createdAt: '2025-02-01T09:00:00.000Z', finishedAt: null });
  const dashboard: Dashboard = {
    environments: ['Test', 'Staging', 'Production'],
    projects: [
      {
        project: 'Acme',
        environments: [
          { environment: 'Test', latest: latest('1.4.1', 'failed'), lastSuccess: '1.4.0' },
          { environment: 'Staging', latest: latest('1.4.0', 'success'), lastSuccess: '1.4.0' },
          { environment: 'Production', latest: null, lastSuccess: null },
        ],
      },
      { project: 'Billing', environments: [{ environment: 'Test', latest: latest('2.0.0', 'running'), lastSuccess: null }] },
    ],
  };

  it('projects x environments in the hub\'s environment order; --json prints the Dashboard', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, dashboard });
    const { ctx, stdout } = await setup(fake.handler);
    await runDashboard(ctx);
    expect(stdout().split('\n')).toEqual([
      'PROJECT  TEST                               STAGING  PRODUCTION',
      'Acme     1.4.1 failed (last success 1.4.0)  1.4.0    -',
      'Billing  2.0.0 running                      -        -',
      '',
    ]);
    const json = await setup(fake.handler, true);
    await runDashboard(json.ctx);
    expect(json.jsonLines()).toEqual([dashboard]);
  });
});
