import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CuttleError, TaskSchema, type Step, type Task } from '@cuttle/shared';
import { DeploymentFixture } from './testing/deployment-fixture.js';
import type { FakeRun } from './testing/fake-tentacle-jobs.js';

const steps: Step[] = [
  { name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'], parallelism: 2 },
  { name: 'Migrate', type: 'run-script', roles: ['db'], script: 'echo migrate', timeoutSeconds: 30 },
  { name: 'Deploy api', type: 'deploy-package', package: 'Acme.Api', roles: ['web'], retain: 5, timeoutSeconds: 60 },
];

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return error instanceof CuttleError ? error.code : `unexpected: ${(error as Error).message}`;
  }
};

/** Lets pending promise callbacks and setImmediate turns run (the runner starts on the next turn). */
const settle = async (turns = 5) => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('the task runner', () => {
  let f: DeploymentFixture;
  const task = (id: number): Task => TaskSchema.parse(f.tasks.get(id));
  const logText = (id: number) => f.tasks.readLog(id, 0, 10_000).map((e) => `[${e.machine ?? 'hub'}] ${e.text}`);
  const deploy = (extra: { machines?: string[]; skipOffline?: boolean; project?: string; release?: string } = {}) =>
    f.deployments.create({ project: extra.project ?? 'Shop', release: extra.release ?? '1.0.0', environment: 'Test', ...extra }, 'tester');

  beforeEach(() => {
    f = new DeploymentFixture();
    f.environment('Test', 'Staging');
    f.machine('web-1', ['web'], ['Test']);
    f.machine('web-2', ['web'], ['Test']);
    f.machine('web-3', ['web'], ['Test']);
    f.machine('db-1', ['db'], ['Test']);
    f.pkg('Acme.Web', '1.0.0');
    f.pkg('Acme.Api', '2.0.0');
    f.project('Shop', steps);
    f.release('Shop', '1.0.0');
  });
  afterEach(async () => {
    await f.close();
  });

  it('runs the steps in order, each on the machines with its roles, with jobs built from the release', async () => {
    f.jobs.autoFinish = (run: FakeRun) => ({ bytesSent: run.job.kind === 'deploy-package' ? 100 : 0 });
    const deployment = deploy();
    expect(task(deployment.taskId).state).toBe('queued');
    await f.runner.whenDone(deployment.taskId);

    const order = f.jobs.runs.map((r) => `${r.job.step}@${r.machine}`);
    expect(order.slice(0, 3).every((s) => s.startsWith('Deploy web@'))).toBe(true);
    expect(order[3]).toBe('Migrate@db-1');
    expect(order.slice(4).sort()).toEqual(['Deploy api@web-1', 'Deploy api@web-2', 'Deploy api@web-3']);

    const first = f.jobs.runs[0]!.job;
    expect(first).toMatchObject({
      kind: 'deploy-package',
      project: 'Shop',
      release: '1.0.0',
      environment: 'Test',
      step: 'Deploy web',
      deploymentId: deployment.id,
      taskId: deployment.taskId,
      app: { project: 'Shop', environment: 'Test', slot: null },
      package: { id: 'Acme.Web', version: '1.0.0', sha256: 'a'.repeat(64), size: 1234 },
      installDir: null,
      retain: 3,
      scriptTimeoutSeconds: 1800,
    });
    expect(f.jobs.runs[3]!.job).toMatchObject({ kind: 'run-script', script: 'echo migrate', timeoutSeconds: 30 });
    expect(f.jobs.runs[4]!.job).toMatchObject({ kind: 'deploy-package', app: { slot: 'Deploy-api' }, retain: 5, scriptTimeoutSeconds: 60, package: { id: 'Acme.Api' } });

    const done = task(deployment.taskId);
    expect(done).toMatchObject({ state: 'success', error: null, errorCode: null });
    expect(done.startedAt).not.toBeNull();
    expect(done.finishedAt).not.toBeNull();
    expect(done.targets.map((t) => [t.machine, t.state, t.bytesSent])).toEqual([
      ['db-1', 'success', 0],
      ['web-1', 'success', 200],
      ['web-2', 'success', 200],
      ['web-3', 'success', 200],
    ]);
    expect(f.history.machineReleases('web-1')).toMatchObject([{ project: 'Shop', environment: 'Test', release: '1.0.0', taskId: deployment.taskId }]);
    const log = logText(deployment.taskId);
    expect(log[0]).toContain('queued by tester');
    expect(log.some((l) => l.includes('Step 1/3 "Deploy web" (deploy-package Acme.Web 1.0.0) on web-1, web-2, web-3, 2 at a time'))).toBe(true);
    expect(log.some((l) => l.startsWith('[web-1]') && l.includes('success'))).toBe(true);
    expect(log.at(-1)).toContain('Deployment succeeded');
  });

  it('never runs more jobs of a step at once than its parallelism', async () => {
    for (let i = 4; i <= 12; i++) f.machine(`web-${i}`, ['web'], ['Test']);
    f.jobs.autoFinish = async () => {
      await settle(2);
      return {};
    };
    const deployment = deploy();
    await f.runner.whenDone(deployment.taskId);
    expect(task(deployment.taskId).state).toBe('success');
    const webJobs = f.jobs.runs.filter((r) => r.job.step === 'Deploy web');
    expect(webJobs).toHaveLength(12);
    expect(f.jobs.maxRunning).toBe(10); // "Deploy api" has no parallelism: the default 10
  });

  it('honours a parallelism of 2 (max concurrent jobs observed)', async () => {
    f.project('Narrow', [{ name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'], parallelism: 2 }]);
    f.release('Narrow', '1.0.0');
    f.jobs.autoFinish = async () => {
      await settle(2);
      return {};
    };
    const deployment = deploy({ project: 'Narrow' });
    await f.runner.whenDone(deployment.taskId);
    expect(f.jobs.runs).toHaveLength(3);
    expect(f.jobs.maxRunning).toBe(2);
  });

  it('stops at a failed step: the running targets end, later steps and unstarted targets are skipped, the error sums it up', async () => {
    f.project('Serial', [
      { name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'], parallelism: 1 },
      { name: 'Migrate', type: 'run-script', roles: ['db'], script: 'echo migrate' },
    ]);
    f.release('Serial', '1.0.0');
    f.jobs.autoFinish = (run: FakeRun) => (run.machine === 'web-2' ? { outcome: 'failed', error: { code: 'script-failed', message: 'Deploy.sh exited with 1' } } : {});
    const deployment = deploy({ project: 'Serial' });
    await f.runner.whenDone(deployment.taskId);

    expect(f.jobs.runs.map((r) => r.machine)).toEqual(['web-1', 'web-2']);
    const done = task(deployment.taskId);
    expect(done.state).toBe('failed');
    expect(done.errorCode).toBe('script-failed');
    expect(done.error).toBe('1 of 3 targets failed in step Deploy web: web-2 script-failed: Deploy.sh exited with 1');
    const byMachine = Object.fromEntries(done.targets.map((t) => [t.machine, t]));
    expect(byMachine['web-1']).toMatchObject({ state: 'success' });
    expect(byMachine['web-2']).toMatchObject({ state: 'failed', errorCode: 'script-failed', error: 'Deploy.sh exited with 1', step: 'Deploy web' });
    expect(byMachine['web-3']).toMatchObject({ state: 'skipped', error: 'not run: step Deploy web failed' });
    expect(byMachine['db-1']).toMatchObject({ state: 'skipped', error: 'not run: step Deploy web failed' });
    expect(logText(deployment.taskId).at(-1)).toContain('Deployment failed');
  });

  it('records the release as current on a machine whose package was switched in, even when a later step fails', async () => {
    f.jobs.autoFinish = (run: FakeRun) => (run.machine === 'db-1' ? { outcome: 'failed', error: { code: 'script-failed', message: 'migrate exited with 1' } } : {});
    const deployment = deploy();
    await f.runner.whenDone(deployment.taskId);
    expect(task(deployment.taskId).state).toBe('failed');
    // web-1 ran "Deploy web" (its package is current on its disk) before "Migrate" failed on db-1
    expect(f.history.machineReleases('web-1').map((r) => [r.project, r.release, r.drift.state])).toEqual([['Shop', '1.0.0', 'in-sync']]);
    expect(f.history.machineReleases('db-1')).toEqual([]);
  });

  it('lets the running targets of a failed step finish before it stops', async () => {
    const deployment = deploy();
    await f.jobs.waitForRuns(2);
    f.jobs.runs[0]!.fail('script-failed', 'Deploy.sh exited with 1');
    await settle();
    expect(f.jobs.runs).toHaveLength(2); // web-3 does not start after the failure
    expect(task(deployment.taskId).state).toBe('running');
    f.jobs.runs[1]!.finish();
    await f.runner.whenDone(deployment.taskId);
    const done = task(deployment.taskId);
    expect(done.state).toBe('failed');
    // web-2 finished its first step; its second never ran
    expect(done.targets.find((t) => t.machine === 'web-2')).toMatchObject({ state: 'skipped', error: 'its later steps did not run: step Deploy web failed' });
  });

  it('fails an offline target with machine-offline, or skips it with skipOffline', async () => {
    f.jobs.autoFinish = () => ({});
    f.setOnline('web-2', false);
    const failing = deploy();
    await f.runner.whenDone(failing.taskId);
    const failed = task(failing.taskId);
    expect(failed.state).toBe('failed');
    expect(failed.errorCode).toBe('machine-offline');
    expect(failed.error).toContain('web-2 machine-offline: web-2 is not connected to the hub');
    expect(failed.targets.find((t) => t.machine === 'web-2')).toMatchObject({ state: 'failed', errorCode: 'machine-offline' });

    const skipping = deploy({ skipOffline: true });
    await f.runner.whenDone(skipping.taskId);
    const skipped = task(skipping.taskId);
    expect(skipped.state).toBe('success');
    expect(skipped.targets.find((t) => t.machine === 'web-2')).toMatchObject({ state: 'skipped', errorCode: 'machine-offline' });
    // a skipped machine takes no part in later steps either
    expect(f.jobs.runs.filter((r) => r.machine === 'web-2' && r.job.taskId === skipping.taskId)).toHaveLength(0);
  });

  it('fails the task when every target was offline and skipped', async () => {
    for (const m of ['web-1', 'web-2', 'web-3', 'db-1']) f.setOnline(m, false);
    const deployment = deploy({ skipOffline: true });
    await f.runner.whenDone(deployment.taskId);
    expect(task(deployment.taskId)).toMatchObject({ state: 'failed', errorCode: 'machine-offline' });
  });

  it('runs one deployment at a time per machine and project: the second waits and says for what; another project runs meanwhile', async () => {
    f.project('Blog', [{ name: 'Deploy blog', type: 'deploy-package', package: 'Acme.Web', roles: ['web'] }]);
    f.release('Blog', '1.0.0');
    const first = deploy({ machines: ['web-1', 'web-2'] });
    await f.jobs.waitForRuns(2);
    const second = deploy({ machines: ['web-2', 'web-3'] });
    const other = deploy({ project: 'Blog' });
    await f.jobs.waitForRuns(5);
    await settle();

    expect(task(second.taskId).state).toBe('waiting');
    expect(task(second.taskId).targets.map((t) => t.state)).toEqual(['waiting', 'waiting']);
    expect(logText(second.taskId).some((l) => l.includes(`Waiting for deployment ${first.id} (task ${first.taskId}), which is deploying Shop on web-2`))).toBe(true);
    expect(task(other.taskId).state).toBe('running');
    expect(f.jobs.runs.filter((r) => r.job.taskId === other.taskId)).toHaveLength(3);

    for (const run of f.jobs.runs.filter((r) => r.job.taskId === first.taskId)) run.finish();
    f.jobs.autoFinish = () => ({});
    await f.runner.whenDone(first.taskId);
    await f.runner.whenDone(second.taskId);
    expect(task(first.taskId).state).toBe('success');
    expect(task(second.taskId).state).toBe('success');
    for (const run of f.jobs.runs) run.finish();
    await f.runner.whenDone(other.taskId);
  });

  it('serves waiters first come, first served on the machines they share', async () => {
    const first = deploy({ machines: ['web-1'] });
    await f.jobs.waitForRuns(1);
    const second = deploy({ machines: ['web-1', 'web-2'] });
    const third = deploy({ machines: ['web-2'] });
    await settle();
    expect(task(second.taskId).state).toBe('waiting');
    expect(task(third.taskId).state).toBe('waiting');
    expect(logText(third.taskId).some((l) => l.includes(`deployment ${second.id} (task ${second.taskId}), which waits first for Shop on web-2`))).toBe(true);
    f.jobs.autoFinish = () => ({});
    f.jobs.runs[0]!.finish();
    await Promise.all([first, second, third].map((d) => f.runner.whenDone(d.taskId)));
    const started = f.jobs.runs.map((r) => r.job.taskId);
    expect(started.indexOf(second.taskId)).toBeLessThan(started.indexOf(third.taskId));
  });

  it('cancels a queued task at once, before any job', async () => {
    const deployment = deploy();
    const cancelled = TaskSchema.parse(f.tasks.cancel(deployment.taskId, 'alice'));
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelRequested: true, errorCode: 'cancelled' });
    expect(cancelled.targets.every((t) => t.state === 'cancelled' && t.errorCode === 'cancelled')).toBe(true);
    await f.runner.whenDone(deployment.taskId);
    expect(f.jobs.runs).toHaveLength(0);
    expect(logText(deployment.taskId).at(-1)).toContain('Cancelled by alice');
    expect(codeOf(() => f.tasks.cancel(deployment.taskId, null))).toBe('task-finished');
  });

  it('cancels a waiting task at once and lets the one it waited for go on', async () => {
    const first = deploy({ machines: ['web-1'] });
    await f.jobs.waitForRuns(1);
    const second = deploy({ machines: ['web-1'] });
    await settle();
    expect(task(second.taskId).state).toBe('waiting');
    expect(f.tasks.cancel(second.taskId, null).state).toBe('cancelled');
    await f.runner.whenDone(second.taskId);
    f.jobs.autoFinish = () => ({});
    f.jobs.runs[0]!.finish();
    await f.runner.whenDone(first.taskId);
    expect(task(first.taskId).state).toBe('success');
    expect(f.jobs.runs.every((r) => r.job.taskId === first.taskId)).toBe(true);
  });

  it('cancels a running task by aborting its jobs; targets not reached end cancelled', async () => {
    const deployment = deploy();
    await f.jobs.waitForRuns(2);
    const answer = f.tasks.cancel(deployment.taskId, 'alice');
    expect(answer).toMatchObject({ state: 'running', cancelRequested: true });
    await f.runner.whenDone(deployment.taskId);
    expect(f.jobs.runs.every((r) => r.signal.aborted)).toBe(true);
    const done = task(deployment.taskId);
    expect(done.state).toBe('cancelled');
    expect(done.targets.map((t) => t.state)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect(f.jobs.runs).toHaveLength(2);
  });

  it('answers task-not-found for a cancel of a task that does not exist', () => {
    expect(codeOf(() => f.tasks.cancel(999, null))).toBe('task-not-found');
  });

  it('after a restart marks running tasks failed (targets interrupted), queues the ones that only waited for a lock again and runs them; a new deployment works', async () => {
    const running = deploy({ machines: ['web-1', 'web-2'] });
    await f.jobs.waitForRuns(2);
    f.jobs.runs[0]!.finish(); // web-1 done with its first step
    await settle();
    const waiting = deploy({ machines: ['web-1'] });
    await settle();
    expect(task(waiting.taskId).state).toBe('waiting');
    expect(task(waiting.taskId).targets[0]?.state).toBe('waiting');
    const queued = deploy({ machines: ['web-3'] }); // stored, and the hub stops before it starts
    f.restart();

    f.jobs.autoFinish = () => ({});
    const recovered = f.runner.recover();
    expect(recovered).toEqual({ interrupted: [running.taskId], requeued: [waiting.taskId], started: [waiting.taskId, queued.taskId] });
    const interrupted = task(running.taskId);
    expect(interrupted).toMatchObject({ state: 'failed', errorCode: 'interrupted', error: 'interrupted by hub restart' });
    expect(interrupted.targets.map((t) => [t.machine, t.state, t.errorCode])).toEqual([
      ['web-1', 'failed', 'interrupted'],
      ['web-2', 'failed', 'interrupted'],
    ]);
    // the waiting task never ran a job: it is queued again with its target pending, then runs
    expect(task(waiting.taskId)).toMatchObject({ state: 'queued', errorCode: null });
    expect(task(waiting.taskId).targets[0]).toMatchObject({ state: 'pending', errorCode: null });

    await f.runner.whenDone(waiting.taskId);
    await f.runner.whenDone(queued.taskId);
    expect(task(waiting.taskId).state).toBe('success');
    expect(logText(waiting.taskId)).toContain('[hub] The hub restarted while this task waited for its machines; queued again');
    expect(task(queued.taskId).state).toBe('success');
    const again = deploy({ machines: ['web-1'] });
    await f.runner.whenDone(again.taskId);
    expect(task(again.taskId).state).toBe('success');
  });

  it('fails only the target whose run throws (invalid-job) and keeps the locks until the step\'s other jobs end', async () => {
    const run = f.jobs.run.bind(f.jobs);
    f.jobs.run = (machine, job, handlers, signal) => {
      if (machine === 'web-2') throw new Error('damaged target record');
      return run(machine, job, handlers, signal);
    };
    const first = deploy({ machines: ['web-1', 'web-2'] });
    await f.jobs.waitForRuns(1);
    await settle();
    // web-1's job still runs: the task is running and still holds web-1
    expect(task(first.taskId).state).toBe('running');
    expect(task(first.taskId).targets.find((t) => t.machine === 'web-2')).toMatchObject({ state: 'failed', errorCode: 'invalid-job' });
    expect(task(first.taskId).targets.find((t) => t.machine === 'web-2')?.error).toContain('damaged target record');
    const second = deploy({ machines: ['web-1'] });
    await settle();
    expect(task(second.taskId).state).toBe('waiting');
    expect(f.jobs.runs).toHaveLength(1);

    f.jobs.autoFinish = () => ({}); // for the second deployment's jobs
    f.jobs.runs[0]!.finish();
    await f.runner.whenDone(first.taskId);
    expect(task(first.taskId)).toMatchObject({ state: 'failed', errorCode: 'invalid-job' });
    expect(task(first.taskId).error).toContain('1 of 2 targets failed in step Deploy web: web-2 invalid-job');
    await f.runner.whenDone(second.taskId);
    expect(task(second.taskId).state).toBe('success');
  });

  it('records nothing more once stopped, so a clean stop looks like a crash to the next start', async () => {
    const deployment = deploy();
    await f.jobs.waitForRuns(2);
    const lines = f.tasks.readLog(deployment.taskId, 0, 1000).length;
    f.runner.stop();
    f.setOnline('web-3', false);
    for (const run of f.jobs.runs) run.fail('connection-lost', 'the hub is shutting down');
    await settle(20);
    expect(task(deployment.taskId).state).toBe('running');
    expect(task(deployment.taskId).targets.filter((t) => t.state === 'running')).toHaveLength(2);
    expect(f.tasks.readLog(deployment.taskId, 0, 1000)).toHaveLength(lines);
    expect(f.jobs.runs).toHaveLength(2);
  });

  it('after a restart gives a queued task time for its machines to reconnect', async () => {
    const queued = deploy({ machines: ['web-1'] });
    f.restart();
    f.setOnline('web-1', false);
    f.jobs.autoFinish = () => ({});
    f.runner.recover(60_000);
    await settle();
    expect(task(queued.taskId).state).toBe('queued');
    expect(logText(queued.taskId).at(-1)).toContain('Waiting up to 60 s for web-1 to reconnect');
    f.setOnline('web-1', true);
    await f.runner.whenDone(queued.taskId);
    expect(task(queued.taskId).state).toBe('success');
  });

  it('records phases, hub and tentacle log lines and bytes as they happen', async () => {
    const deployment = deploy({ machines: ['web-1'] });
    await f.jobs.waitForRuns(1);
    const run = f.jobs.runs[0]!;
    run.handlers.onPhase('Deploy');
    run.handlers.onLog([
      { at: '2026-01-01T00:00:01.000Z', stream: 'stdout', text: 'hello' },
      { at: 'not a time', stream: 'stderr', text: 'oops' },
    ]);
    run.handlers.onHubLog('warn', 'connection lost; waiting');
    run.handlers.onBytesSent(4096);
    const target = task(deployment.taskId).targets[0]!;
    expect(target).toMatchObject({ state: 'running', step: 'Deploy web', phase: 'Deploy', bytesSent: 4096 });
    const lines = f.tasks.readLog(deployment.taskId, 0, 100);
    expect(lines.filter((l) => l.machine === 'web-1').map((l) => [l.stream, l.text])).toEqual([
      ['stdout', 'hello'],
      ['stderr', 'oops'],
      ['warn', 'connection lost; waiting'],
    ]);
    expect(lines.find((l) => l.text === 'hello')?.at).toBe('2026-01-01T00:00:01.000Z');
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    run.finish({ bytesSent: 8192 });
    f.jobs.autoFinish = () => ({});
    await f.runner.whenDone(deployment.taskId);
    expect(task(deployment.taskId).targets[0]?.bytesSent).toBe(8192);
  });

  it('fails a target whose job reports cancelled although nobody cancelled the task', async () => {
    f.jobs.autoFinish = () => ({ outcome: 'cancelled', error: { code: 'cancelled', message: 'cancelled by the tentacle' } });
    const deployment = deploy({ machines: ['web-1'] });
    await f.runner.whenDone(deployment.taskId);
    expect(task(deployment.taskId)).toMatchObject({ state: 'failed', errorCode: 'cancelled' });
  });
});
