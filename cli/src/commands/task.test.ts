import { formatLogEntry } from '@cuttle/shared';
import { describe, expect, it } from 'vitest';
import { sendJson } from '../test-support/fake-hub.js';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { FAILURE_SCRIPT, FAST_TIMING, SUCCESS_SCRIPT, deployment, fakeDeployments, task, taskTarget } from '../test-support/fake-deployments.js';
import { failure } from '../test-support/test-io.js';
import { runDeploy } from './deploy.js';
import { runCancelTask, runShowTask, runTaskLog } from './task.js';

const ADMIN = 'admin-key';


describe('cuttle task', () => {
  const setup = fakeHubSetup({ apiKey: ADMIN });

  it('show: fields of the task and a table of its targets; --json prints the Task', async () => {
    const shown = task({
      state: 'failed',
      startedAt: '2025-02-01T09:00:01.000Z',
      finishedAt: '2025-02-01T09:02:00.000Z',
      errorCode: 'deployment-failed',
      error: '1 of 2 targets failed',
      deployment: deployment({ machines: ['web-01', 'web-02'], rollbackFrom: '1.4.1' }),
      targets: [
        taskTarget('web-02', { state: 'failed', step: 'Deploy web', phase: 'Deploy', errorCode: 'script-failed', error: 'Deploy.sh exited with code 3', bytesSent: 2048 }),
        taskTarget('web-01', { state: 'success', step: 'Deploy web', phase: 'switch', bytesSent: 2048 }),
      ],
    });
    const { ctx, stdout, hub } = await setup((_req, res) => sendJson(res, 200, shown));
    await runShowTask(ctx, '12');
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/tasks/12');
    expect(stdout()).toBe(
      [
        'task:          12',
        'description:   Deploy Acme 1.4.0 to Test',
        'state:         failed',
        'deployment:    7: Acme 1.4.0 to Test, rollback from 1.4.1',
        'machines:      web-01, web-02',
        'skip offline:  no',
        'by:            ci',
        'created:       2025-02-01 09:00:00Z',
        'started:       2025-02-01 09:00:01Z',
        'finished:      2025-02-01 09:02:00Z',
        'error:         1 of 2 targets failed (deployment-failed)',
        'targets (1 success, 1 failed):',
        '  MACHINE  STATE    STEP                 SENT     ERROR',
        '  web-01   success  Deploy web (switch)  2.0 KiB  -',
        '  web-02   failed   Deploy web (Deploy)  2.0 KiB  Deploy.sh exited with code 3 (script-failed)',
        '',
      ].join('\n'),
    );
    const json = await setup((_req, res) => sendJson(res, 200, shown), true);
    await runShowTask(json.ctx, '12');
    expect(json.jsonLines()).toEqual([shown]);
  });

  it('show: a bad id is exit 2 before any request; an unknown task is 404 task-not-found, exit 1', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN });
    const { ctx, hub } = await setup(fake.handler);
    for (const id of ['0', 'abc', '-3', '1.5']) expect(await failure(runShowTask(ctx, id))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(hub.requests).toHaveLength(0);
    expect(await failure(runShowTask(ctx, '99'))).toMatchObject({ exitCode: 1, code: 'task-not-found' });
  });

  it('log: every entry as the hub formats its text log; --json: one TaskLogEntry per line; --since skips the earlier ones', async () => {
    // A deployment (task 12) followed to its failed end fills the fake's log.
    const fake = fakeDeployments({ apiKey: ADMIN, script: FAILURE_SCRIPT });
    const deployer = await setup(fake.handler);
    expect(await failure(runDeploy(deployer.ctx, { project: 'Acme', release: '1.4.0', environment: 'Test', wait: true, timing: FAST_TIMING }))).toMatchObject({ code: 'deployment-failed' });
    const log = fake.tasks.get(12)?.log ?? [];
    expect(log.length).toBe(3);

    const plain = await setup(fake.handler);
    await runTaskLog(plain.ctx, '12');
    expect(plain.stdout()).toBe(log.map((entry) => `${formatLogEntry(entry)}\n`).join(''));
    expect(plain.hub.requests[0]?.headers.accept).toBe('application/x-ndjson');
    expect(plain.hub.requests[0]?.url.search).toBe('');

    const json = await setup(fake.handler, true);
    await runTaskLog(json.ctx, '12', { since: '1' });
    expect(json.jsonLines()).toEqual(log.slice(1));
    expect(json.hub.requests[0]?.url.searchParams.get('since')).toBe('1');
  });

  it('log --follow: streams until the task ends (exit 0 even when it failed), resuming a dropped stream without doubles', async () => {
    const script = [
      ...SUCCESS_SCRIPT.slice(0, 2),
      (t: Parameters<(typeof SUCCESS_SCRIPT)[number]>[0]) => {
        for (let i = 1; i <= 4; i++) t.append('web-02', 'stdout', `line ${i}`);
      },
      ...FAILURE_SCRIPT.slice(2),
    ];
    const fake = fakeDeployments({ apiKey: ADMIN, script, dropFollowAfter: 2 });
    const creator = await setup(fake.handler);
    await runDeploy(creator.ctx, { project: 'Acme', release: '1.4.0', environment: 'Test' });

    const { ctx, stdout } = await setup(fake.handler);
    await runTaskLog(ctx, '12', { follow: true, timing: FAST_TIMING });
    const log = fake.tasks.get(12)?.log ?? [];
    expect(log).toHaveLength(7);
    expect(stdout()).toBe(log.map((entry) => `${formatLogEntry(entry)}\n`).join(''));
    expect(fake.tasks.get(12)?.task.state).toBe('failed');
    const follows = fake.logRequests.filter((url) => url.searchParams.get('follow') === 'true');
    expect(follows[1]?.searchParams.get('since')).toBe('2');
  });

  it('cancel: POSTs /tasks/{id}/cancel and says the hub is stopping it; a finished task is 409 task-finished, exit 1', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, script: SUCCESS_SCRIPT.slice(0, 1) });
    const { ctx, stdout, hub } = await setup(fake.handler);
    await runDeploy(ctx, { project: 'Acme', release: '1.4.0', environment: 'Test' });
    const cancelled = await runCancelTask(ctx, '12');
    expect(hub.requests.at(-1)).toMatchObject({ method: 'POST' });
    expect(hub.requests.at(-1)?.url.pathname).toBe('/api/v1/tasks/12/cancel');
    expect(cancelled.cancelRequested).toBe(true);
    expect(stdout().split('\n').at(-2)).toBe('asked the hub to cancel task 12 (Acme 1.4.0 to Test); it is queued until its machines stop');

    fake.tasks.get(12)?.finish('cancelled');
    const json = await setup(fake.handler, true);
    expect(await failure(runCancelTask(json.ctx, '12'))).toMatchObject({ exitCode: 1, code: 'task-finished', message: 'Task 12 has finished already (cancelled).' });
    const done = await setup((_req, res) => sendJson(res, 202, task({ state: 'cancelled' })));
    await runCancelTask(done.ctx, '12');
    expect(done.stdout()).toBe('cancelled task 12 (Acme 1.4.0 to Test)\n');
  });
});
