import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAILURE_SCRIPT, SUCCESS_SCRIPT, fakeDeployments, type FakeDeploymentsOptions, type ScriptStep } from './test-support/fake-deployments.js';
import { startFakeHub, type FakeHub } from './test-support/fake-hub.js';
import { ensureBuilt, runCli } from './test-support/run-cli.js';

const ADMIN = 'cuttle_admin_key';

/** Two polls (the wait polls once a second): machines running with some output, then the end. */
const QUICK_SUCCESS: ScriptStep[] = [
  (t) => {
    SUCCESS_SCRIPT[0]?.(t);
    SUCCESS_SCRIPT[1]?.(t);
  },
  (t) => SUCCESS_SCRIPT[2]?.(t),
];
const QUICK_FAILURE: ScriptStep[] = [
  (t) => {
    FAILURE_SCRIPT[0]?.(t);
    FAILURE_SCRIPT[1]?.(t);
  },
  (t) => FAILURE_SCRIPT[2]?.(t),
];

/** The built `cuttle` binary: deploy, rollback, task and status, with their exit codes and output streams. */
describe('cuttle binary: deployments', () => {
  let hub: FakeHub | undefined;

  beforeAll(() => ensureBuilt(), 120_000);
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  async function fake(options: Omit<FakeDeploymentsOptions, 'apiKey'>): Promise<FakeHub> {
    hub = await startFakeHub(fakeDeployments({ apiKey: ADMIN, ...options }).handler);
    return hub;
  }
  const cli = (server: FakeHub | undefined, args: string[]) =>
    runCli([...args, ...(server === undefined ? [] : ['--hub', server.url])], { env: { CUTTLE_API_KEY: ADMIN } });
  const DEPLOY = ['deploy', '--project', 'Acme', '--release', '1.4.0', '--environment', 'Test'];

  it('usage errors exit 2 before any request', async () => {
    const server = await fake({});
    expect(await cli(server, ['deploy', '--project', 'Acme', '--environment', 'Test'])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: "error: required option '--release <version>' not specified (usage)\n",
    });
    expect((await cli(server, [...DEPLOY, '--bogus'])).stderr).toBe("error: unknown option '--bogus' (usage)\n");
    expect(await cli(server, [...DEPLOY, '--machine', 'web 01'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--machine "web 01" is not a valid machine name') });
    expect((await cli(server, ['task', 'show', 'twelve'])).code).toBe(2);
    expect((await cli(server, ['rollback', '--project', 'Acme'])).code).toBe(2);
    expect(server.requests).toHaveLength(0);
  }, 60_000);

  it('deploy --wait: exit 0 on success, the summary last on stdout', async () => {
    const server = await fake({ script: QUICK_SUCCESS });
    const run = await cli(server, [...DEPLOY, '--wait']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const out = run.stdout.trim().split('\n');
    expect(out[0]).toBe('created deployment 7: Acme 1.4.0 to Test (task 12)');
    expect(out).toContain('target web-02: success');
    expect(out.at(-1)).toBe('deployment 7 succeeded: Acme 1.4.0 to Test (task 12; 2 success)');
  }, 60_000);

  it('deploy --wait: exit 1 when it fails, the failed targets on stdout and the error on stderr; --json ends with the error document', async () => {
    const server = await fake({ script: QUICK_FAILURE });
    const run = await cli(server, [...DEPLOY, '--wait']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('failed targets:\n  web-02  failed in Deploy web (Deploy): Deploy.sh exited with code 3 (script-failed)\n');
    expect(run.stderr).toBe('error: deployment 7 (task 12) of Acme 1.4.0 to Test failed: 1 of 2 targets failed (deployment-failed)\n');

    const json = await cli(server, [...DEPLOY, '--wait', '--json']);
    expect(json.code).toBe(1);
    const events = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ event: 'created', deployment: { id: 8, taskId: 13 } });
    expect(events.at(-2)).toMatchObject({ event: 'finished', state: 'failed', task: { id: 13 } });
    expect(events.at(-1)).toMatchObject({ error: { code: 'deployment-failed', details: { taskId: 13, failedTargets: [{ machine: 'web-02' }] } } });
  }, 60_000);

  it('--timeout, before or after the command, stops waiting with exit 1 and says the task goes on', async () => {
    const server = await fake({ script: SUCCESS_SCRIPT.slice(0, 1) });
    const after = await cli(server, [...DEPLOY, '--wait', '--timeout', '0.3']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('stopped waiting after 0.3 s; task 12 (deployment 7) is still running on the hub.');
    expect(after.stderr).toContain('cancel it with: cuttle task cancel 12 (wait-timeout)');
    const before = await cli(server, ['--timeout', '0.3', ...DEPLOY, '--wait']);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('stopped waiting after 0.3 s; task 13');
  }, 60_000);

  it('the hub cannot be reached: exit 3', async () => {
    const closed = await startFakeHub(() => undefined);
    await closed.close();
    const run = await runCli([...DEPLOY, '--wait', '--hub', closed.url], { env: { CUTTLE_API_KEY: ADMIN } });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: cannot reach the hub at http:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\).* \(hub-unreachable\)\n$/);
  });

  it('task cancel, show and log; rollback without a previous release exits 1; status prints a table', async () => {
    const server = await fake({ script: SUCCESS_SCRIPT.slice(0, 1), status: [] });
    expect((await cli(server, DEPLOY)).code).toBe(0);
    expect(await cli(server, ['task', 'cancel', '12'])).toEqual({
      code: 0,
      stdout: 'asked the hub to cancel task 12 (Acme 1.4.0 to Test); it is queued until its machines stop\n',
      stderr: '',
    });
    const shown = await cli(server, ['task', 'show', '12', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: 12, cancelRequested: true });
    // Each poll of the fake moves its task on: `task show` started it, and it logged its first line.
    expect(await cli(server, ['task', 'log', '12'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\S+Z info   \[hub\] deploying Acme 1\.4\.0 to Test on 2 machines\n$/), stderr: '' });
    expect(await cli(server, ['task', 'show', '99'])).toMatchObject({ code: 1, stderr: 'error: No task has the id 99. (task-not-found)\n' });
    expect(await cli(server, ['rollback', '--project', 'Acme', '--environment', 'Test'])).toMatchObject({
      code: 1,
      stderr: 'error: There is no earlier successful release of Acme in Test. (no-previous-release)\n',
    });
    expect(await cli(server, ['status'])).toMatchObject({ code: 0, stdout: 'nothing deployed yet; deploy with: cuttle deploy --project P --release V --environment E --wait\n' });
  }, 60_000);

  it('deploy --help documents --wait and the --timeout of a wait (once)', async () => {
    const help = await cli(undefined, ['deploy', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--wait');
    expect(help.stdout.match(/--timeout <seconds>/g)).toHaveLength(1);
    expect(help.stdout).toContain('with --wait: stop waiting after this long');
    const top = await cli(undefined, ['--help']);
    for (const command of ['deploy', 'rollback', 'task', 'status', 'dashboard']) expect(top.stdout).toMatch(new RegExp(`\\n  ${command} `));
  });
});
