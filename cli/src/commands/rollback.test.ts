import { describe, expect, it } from 'vitest';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { FAILURE_SCRIPT, FAST_TIMING, SUCCESS_SCRIPT, fakeDeployments } from '../test-support/fake-deployments.js';
import { failure } from '../test-support/test-io.js';
import { runRollback } from './rollback.js';

const ADMIN = 'admin-key';

describe('cuttle rollback', () => {
  const setup = fakeHubSetup({ apiKey: ADMIN });

  it('POSTs /rollback and prints the release it deploys and the one it replaces', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, rollback: { release: '1.3.0', from: '1.4.0' } });
    const { ctx, stdout, hub } = await setup(fake.handler);
    await runRollback(ctx, { project: 'Acme', environment: 'Production', machines: ['web-02'], skipOffline: true });
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/rollback');
    expect(fake.bodies).toEqual([{ project: 'Acme', environment: 'Production', machines: ['web-02'], skipOffline: true }]);
    expect(stdout()).toBe('created rollback 7: Acme 1.3.0 to Production (machines web-02), replacing 1.4.0 (task 12)\nfollow it with: cuttle task log 12 --follow\n');
  });

  it('--wait follows it like deploy: exit 0 on success, exit 1 with the failed targets otherwise', async () => {
    const ok = fakeDeployments({ apiKey: ADMIN, rollback: { release: '1.3.0', from: '1.4.0' }, script: SUCCESS_SCRIPT });
    const good = await setup(ok.handler);
    const { task } = await runRollback(good.ctx, { project: 'Acme', environment: 'Test', wait: true, timing: FAST_TIMING });
    expect(task?.state).toBe('success');
    expect(good.stdout().split('\n').at(-2)).toBe('rollback 7 succeeded: Acme 1.3.0 to Test (task 12; 2 success)');

    const bad = fakeDeployments({ apiKey: ADMIN, rollback: { release: '1.3.0', from: '1.4.0' }, script: FAILURE_SCRIPT });
    const failing = await setup(bad.handler, true);
    expect(await failure(runRollback(failing.ctx, { project: 'Acme', environment: 'Test', wait: true, timing: FAST_TIMING }))).toMatchObject({
      exitCode: 1,
      code: 'deployment-failed',
      message: 'rollback 7 (task 12) of Acme 1.3.0 to Test failed: 1 of 2 targets failed',
    });
    expect(failing.jsonLines()[0]).toMatchObject({ event: 'created', deployment: { rollbackFrom: '1.4.0', release: '1.3.0' } });
  });

  it('409 no-previous-release is exit 1 with the hub\'s message; bad names are exit 2 before any request', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN });
    const { ctx, hub } = await setup(fake.handler);
    expect(await failure(runRollback(ctx, { project: 'Acme', environment: 'Test' }))).toEqual({
      exitCode: 1,
      code: 'no-previous-release',
      message: 'There is no earlier successful release of Acme in Test.',
    });
    const requests = hub.requests.length;
    expect(await failure(runRollback(ctx, { project: 'Acme!', environment: 'Test' }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runRollback(ctx, { project: 'Acme', environment: 'Test', machines: ['..'] }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(hub.requests).toHaveLength(requests);
  });
});
