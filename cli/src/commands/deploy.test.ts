import { formatLogEntry, type TaskLogEntry } from '@cuttle/shared';
import { describe, expect, it } from 'vitest';
import { sendError } from '../test-support/fake-hub.js';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { FAILURE_SCRIPT, FAST_TIMING, SUCCESS_SCRIPT, fakeDeployments, type FakeDeployments } from '../test-support/fake-deployments.js';
import { startFakeHub } from '../test-support/fake-hub.js';
import { createTestIo, failure, testContext } from '../test-support/test-io.js';
import { runDeploy, type DeployOptions } from './deploy.js';

const ADMIN = 'admin-key';
const BASE: DeployOptions = { project: 'Acme', release: '1.4.0', environment: 'Test', timing: FAST_TIMING };

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** Every log line of the fake task, formatted as the hub's text log. */
function logLines(fake: FakeDeployments, taskId: number): string[] {
  return (fake.tasks.get(taskId)?.log ?? []).map((entry) => formatLogEntry(entry));
}

describe('cuttle deploy', () => {
  const setup = fakeHubSetup({ apiKey: ADMIN });

  it('without --wait: POSTs the deployment and prints its id, task and how to follow it', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN });
    const { ctx, stdout, hub } = await setup(fake.handler);
    const result = await runDeploy(ctx, { ...BASE, machines: ['web-01,web-02', 'web-01'], skipOffline: true });
    expect(hub.requests[0]).toMatchObject({ method: 'POST' });
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/deployments');
    expect(fake.bodies).toEqual([{ project: 'Acme', release: '1.4.0', environment: 'Test', machines: ['web-01', 'web-02'], skipOffline: true }]);
    expect(result.task).toBeUndefined();
    expect(stdout()).toBe('created deployment 7: Acme 1.4.0 to Test (machines web-01, web-02) (task 12)\nfollow it with: cuttle task log 12 --follow\n');
    expect(hub.requests).toHaveLength(1);
  });

  it('without --wait and with --json: the Deployment as one document; optional fields are not sent', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN });
    const { ctx, jsonLines } = await setup(fake.handler, true);
    const { deployment } = await runDeploy(ctx, BASE);
    expect(fake.bodies).toEqual([{ project: 'Acme', release: '1.4.0', environment: 'Test' }]);
    expect(jsonLines()).toEqual([deployment]);
    expect(deployment).toMatchObject({ id: 7, taskId: 12, project: 'Acme', release: '1.4.0', environment: 'Test', machines: null, rollbackFrom: null });
  });

  it('--wait, success (not a terminal): log lines as they come, a line per target change, a summary; resolves with the task', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, script: SUCCESS_SCRIPT });
    const { ctx, stdout, stderr } = await setup(fake.handler);
    const { task } = await runDeploy(ctx, { ...BASE, wait: true });
    expect(task?.state).toBe('success');
    const out = lines(stdout());
    expect(out[0]).toBe('created deployment 7: Acme 1.4.0 to Test (task 12)');
    expect(out[1]).toBe('task 12 running: 2 targets (web-01, web-02)');
    expect(out.at(-1)).toBe('deployment 7 succeeded: Acme 1.4.0 to Test (task 12; 2 success)');
    // Each log line exactly once, in order; target changes in order.
    expect(out.filter((line) => !line.startsWith('target ') && !line.startsWith('task ') && /^\d{4}-/.test(line))).toEqual(logLines(fake, 12));
    expect(out.filter((line) => line.startsWith('target '))).toEqual([
      'target web-01: running Deploy web (transfer)',
      'target web-01: success',
      'target web-02: running Deploy web (Deploy)',
      'target web-02: success',
    ]);
    expect(stderr()).toBe('');
    // The log was followed as NDJSON from the start.
    expect(fake.logRequests[0]?.searchParams.get('follow')).toBe('true');
    expect(fake.logRequests[0]?.searchParams.has('since')).toBe(false);
  });

  it('--wait, failure: exit 1 (deployment-failed) after printing the failed targets and their errors', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, script: FAILURE_SCRIPT });
    const { ctx, stdout } = await setup(fake.handler);
    const report = await failure(runDeploy(ctx, { ...BASE, wait: true }));
    expect(report).toMatchObject({
      exitCode: 1,
      code: 'deployment-failed',
      message: 'deployment 7 (task 12) of Acme 1.4.0 to Test failed: 1 of 2 targets failed',
      details: { taskId: 12, state: 'failed', failedTargets: [{ machine: 'web-02', state: 'failed', errorCode: 'script-failed', error: 'Deploy.sh exited with code 3' }] },
    });
    const out = lines(stdout());
    expect(out).toContain('target web-02: failed in Deploy web (Deploy): Deploy.sh exited with code 3 (script-failed)');
    expect(out.slice(-5)).toEqual([
      'deployment 7 failed: Acme 1.4.0 to Test (task 12; 1 success, 1 failed)',
      'reason: 1 of 2 targets failed (deployment-failed)',
      'failed targets:',
      '  web-02  failed in Deploy web (Deploy): Deploy.sh exited with code 3 (script-failed)',
      'the log: cuttle task log 12',
    ]);
    expect(out.filter((line) => /^\d{4}-/.test(line))).toEqual(logLines(fake, 12));
  });

  it('--wait --json: created, then log and target events, then finished; nothing else on stdout', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, script: FAILURE_SCRIPT });
    const { ctx, jsonLines, stderr } = await setup(fake.handler, true);
    await failure(runDeploy(ctx, { ...BASE, wait: true }));
    const events = jsonLines() as { event: string; [key: string]: unknown }[];
    expect(events[0]).toEqual({ event: 'created', deployment: fake.deployments[0] });
    expect(events.at(-1)).toEqual({ event: 'finished', state: 'failed', task: fake.tasks.get(12)?.task });
    const logs = events.filter((event) => event.event === 'log');
    expect(logs).toEqual((fake.tasks.get(12)?.log ?? []).map((entry: TaskLogEntry) => ({ event: 'log', ...entry })));
    const targets = events.filter((event) => event.event === 'target');
    // The first poll already finds both machines running (the fake moves on before it answers).
    expect(targets.map((event) => [event.machine, event.state])).toEqual([
      ['web-01', 'running'],
      ['web-02', 'running'],
      ['web-01', 'success'],
      ['web-02', 'failed'],
    ]);
    expect(targets.at(-1)).toMatchObject({ machine: 'web-02', step: 'Deploy web', phase: 'Deploy', errorCode: 'script-failed', error: 'Deploy.sh exited with code 3', bytesSent: 0 });
    expect(new Set(events.map((event) => event.event))).toEqual(new Set(['created', 'log', 'target', 'finished']));
    expect(stderr()).toBe('');
  });

  it('a follow stream dropped mid-line resumes with since= the last entry: no line lost, none twice', async () => {
    const script = [
      ...SUCCESS_SCRIPT.slice(0, 2),
      (t: Parameters<(typeof SUCCESS_SCRIPT)[number]>[0]) => {
        for (let i = 1; i <= 5; i++) t.append('web-02', 'stdout', `line ${i}`);
      },
      ...SUCCESS_SCRIPT.slice(2),
    ];
    const fake = fakeDeployments({ apiKey: ADMIN, script, dropFollowAfter: 3 });
    const { ctx, stdout } = await setup(fake.handler);
    await runDeploy(ctx, { ...BASE, wait: true });
    const printed = lines(stdout()).filter((line) => /^\d{4}-/.test(line));
    expect(printed).toEqual(logLines(fake, 12));
    expect(printed).toHaveLength(9);
    const follows = fake.logRequests.filter((url) => url.searchParams.get('follow') === 'true');
    expect(follows.length).toBeGreaterThanOrEqual(2);
    expect(follows[1]?.searchParams.get('since')).toBe('3');
  });

  it('a hub that repeats the entry it resumes from (since= read as "from") still shows each line once', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, script: SUCCESS_SCRIPT, dropFollowAfter: 1, sinceInclusive: true });
    const { ctx, stdout } = await setup(fake.handler);
    await runDeploy(ctx, { ...BASE, wait: true });
    expect(lines(stdout()).filter((line) => /^\d{4}-/.test(line))).toEqual(logLines(fake, 12));
    expect(fake.logRequests.filter((url) => url.searchParams.get('follow') === 'true')[1]?.searchParams.get('since')).toBe('1');
  });

  it('--timeout: stops waiting with exit 1 (wait-timeout) and says the task still runs', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, script: SUCCESS_SCRIPT.slice(0, 1) });
    const { ctx } = await setup(fake.handler);
    const report = await failure(runDeploy(ctx, { ...BASE, wait: true, timeout: '0.2' }));
    expect(report).toMatchObject({ exitCode: 1, code: 'wait-timeout', details: { taskId: 12, state: 'running', timeoutSeconds: 0.2 } });
    expect(report.message).toBe(
      'stopped waiting after 0.2 s; task 12 (deployment 7) is still running on the hub. follow it with: cuttle task log 12 --follow; cancel it with: cuttle task cancel 12',
    );
    expect(fake.tasks.get(12)?.task.cancelRequested).toBe(false);
  });

  it('Ctrl-C while waiting only stops waiting (interrupted, exit 1) and says how to cancel', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, script: SUCCESS_SCRIPT.slice(0, 1) });
    const { ctx, io } = await setup(fake.handler);
    const interrupt = new AbortController();
    const polled = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (fake.tasks.get(12)?.task.state === 'running') {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    const running = failure(runDeploy({ ...ctx, signal: interrupt.signal }, { ...BASE, wait: true }));
    await polled;
    interrupt.abort();
    const report = await running;
    expect(report).toMatchObject({ exitCode: 1, code: 'interrupted' });
    expect(report.message).toContain('cancel it with: cuttle task cancel 12');
    expect(fake.tasks.get(12)?.task.cancelRequested).toBe(false);
    expect(io).toBeDefined();
  });

  it('on a terminal: a block per machine redrawn on stderr, the failed machine\'s last lines above it, the summary on stdout', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, script: FAILURE_SCRIPT });
    const hub = await startFakeHub(fake.handler);
    try {
      const t = createTestIo({ cwd: '/', tty: true, columns: 100 });
      const ctx = testContext(t.io, { hub: hub.url, apiKey: ADMIN });
      await failure(runDeploy(ctx, { ...BASE, wait: true }));
      const err = t.stderr();
      expect(err).toContain('\x1b[');
      expect(err).toMatch(/task 12 running: 2 running/);
      expect(err).toContain('  web-02   running    Deploy web (Deploy)\n');
      expect(err).toContain('web-02 failed in Deploy web (Deploy): Deploy.sh exited with code 3 (script-failed)');
      expect(err).toContain('  web-02 | stderr error: table exists');
      expect(err).toContain('[hub] error: deployment failed: 1 of 2 targets failed');
      expect(err).toMatch(/task 12 failed: 1 success, 1 failed/);
      // No line is wider than the terminal.
      for (const line of err.split(/\n|\x1b\[J/)) expect(line.replace(/\x1b\[\d*A\r?/g, '').length).toBeLessThan(100);
      expect(lines(t.stdout())[0]).toBe('created deployment 7: Acme 1.4.0 to Test (task 12)');
      expect(t.stdout()).toContain('failed targets:\n  web-02  failed in Deploy web (Deploy)');
    } finally {
      await hub.close();
    }
  });

  it('--release latest deploys the newest release; a project without releases is release-not-found (exit 1)', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, releases: ['1.5.0', '1.4.0'] });
    const { ctx, hub } = await setup(fake.handler);
    await runDeploy(ctx, { ...BASE, release: 'latest' });
    expect(hub.requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual(['GET /api/v1/projects/Acme/releases', 'POST /api/v1/deployments']);
    expect(fake.bodies).toEqual([{ project: 'Acme', release: '1.5.0', environment: 'Test' }]);

    const empty = await setup(fakeDeployments({ apiKey: ADMIN }).handler);
    expect(await failure(runDeploy(empty.ctx, { ...BASE, release: 'latest' }))).toMatchObject({ exitCode: 1, code: 'release-not-found' });
  });

  it('bad input is exit 2 before any request', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN });
    const { ctx, hub } = await setup(fake.handler);
    expect(await failure(runDeploy(ctx, { ...BASE, project: 'my project' }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runDeploy(ctx, { ...BASE, environment: '-Test' }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runDeploy(ctx, { ...BASE, release: 'v1.4' }))).toMatchObject({ exitCode: 2, code: 'invalid-version' });
    expect(await failure(runDeploy(ctx, { ...BASE, machines: ['web 01'] }))).toMatchObject({ exitCode: 2, code: 'invalid-option', message: expect.stringContaining('--machine "web 01"') });
    expect(await failure(runDeploy(ctx, { ...BASE, wait: true, timeout: 'soon' }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(hub.requests).toHaveLength(0);
  });

  it("the hub's errors pass through: 404 exit 1, 400 with fields exit 2, 401 exit 3", async () => {
    const { ctx } = await setup((req, res) => {
      req.resume();
      sendError(res, 404, 'release-not-found', 'Acme has no release 9.9.9.', { project: 'Acme', version: '9.9.9' });
    });
    expect(await failure(runDeploy(ctx, { ...BASE, release: '9.9.9', wait: true }))).toEqual({
      exitCode: 1,
      code: 'release-not-found',
      message: 'Acme has no release 9.9.9.',
      details: { project: 'Acme', version: '9.9.9' },
    });
    const fields = [{ field: 'machines.0', message: 'machine-not-in-environment' }];
    const bad = await setup((req, res) => {
      req.resume();
      sendError(res, 400, 'machine-not-in-environment', 'web-09 is not in Test.', { fields });
    });
    expect(await failure(runDeploy(bad.ctx, BASE))).toMatchObject({ exitCode: 2, code: 'machine-not-in-environment', details: { fields } });
    const fake = fakeDeployments({ apiKey: 'other-key' });
    const denied = await setup(fake.handler);
    expect(await failure(runDeploy(denied.ctx, BASE))).toMatchObject({ exitCode: 3, code: 'unauthorized' });
  });

  it('hub unreachable: exit 3 at once when creating; while waiting, after the hub stayed away for the timeout', async () => {
    const closed = await startFakeHub(() => undefined);
    const closedUrl = closed.url;
    await closed.close();
    const t = createTestIo({ cwd: '/', env: { CUTTLE_TIMEOUT: '0.3' } });
    expect(await failure(runDeploy(testContext(t.io, { hub: closedUrl, apiKey: ADMIN }), BASE))).toMatchObject({ exitCode: 3, code: 'hub-unreachable' });

    const fake = fakeDeployments({ apiKey: ADMIN, script: SUCCESS_SCRIPT.slice(0, 1) });
    const hub = await startFakeHub(async (req, res, recorded) => {
      await fake.handler(req, res, recorded);
      // The hub goes away for good once the deployment exists.
      if (recorded.method === 'POST') setImmediate(() => void hub.close());
    });
    const report = await failure(runDeploy(testContext(t.io, { hub: hub.url, apiKey: ADMIN }), { ...BASE, wait: true }));
    expect(report).toMatchObject({ exitCode: 3, code: 'hub-unreachable' });
    expect(report.message).toContain('no answer from the hub for 0.3 s while waiting for task 12');
  });

  it('a hub that is away for less than the timeout (connections dropped) is waited for: the wait still succeeds', async () => {
    const fake = fakeDeployments({ apiKey: ADMIN, script: SUCCESS_SCRIPT });
    let dropped = 0;
    const hub = await startFakeHub(async (req, res, recorded) => {
      // The 2nd to 6th requests after creation are dropped without an answer.
      if (recorded.method === 'GET' && dropped < 5 && fake.deployments.length > 0 && hub.requests.length > 2) {
        dropped++;
        req.socket.destroy();
        return;
      }
      await fake.handler(req, res, recorded);
    });
    try {
      const t = createTestIo({ cwd: '/', env: { CUTTLE_TIMEOUT: '5' } });
      const { task } = await runDeploy(testContext(t.io, { hub: hub.url, apiKey: ADMIN }), { ...BASE, wait: true });
      expect(task?.state).toBe('success');
      expect(dropped).toBe(5);
      expect(lines(t.stdout()).filter((line) => /^\d{4}-/.test(line))).toEqual(logLines(fake, 12));
    } finally {
      await hub.close();
    }
  });
});
