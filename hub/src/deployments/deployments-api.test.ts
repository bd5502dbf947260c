import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DashboardSchema,
  DeploymentListSchema,
  DeploymentSchema,
  ErrorBodySchema,
  MachineReleaseListSchema,
  ProjectEnvironmentSchema,
  StatusListSchema,
  TaskSchema,
  type Step,
} from '@cuttle/shared';
import { z } from 'zod';
import { DeploymentFixture } from './testing/deployment-fixture.js';
import type { FakeRun } from './testing/fake-tentacle-jobs.js';

const TaskListSchema = z.object({ items: z.array(TaskSchema) });
const steps: Step[] = [
  { name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'] },
  { name: 'Smoke', type: 'run-script', roles: ['web'], script: 'curl -sf localhost' },
];

describe('the deployments API', () => {
  let f: DeploymentFixture;
  let base: string;

  const call = async (route: string, method = 'GET', json?: unknown, key = f.adminKey) => {
    const response = await fetch(`${base}/api/v1${route}`, {
      method,
      headers: { 'X-Api-Key': key, ...(json === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: json === undefined ? null : JSON.stringify(json),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  };
  const errorCode = (body: unknown) => ErrorBodySchema.parse(body).error.code;
  const deployAndWait = async (release: string, extra: Record<string, unknown> = {}) => {
    const created = await call('/deployments', 'POST', { project: 'Shop', release, environment: 'Test', ...extra });
    expect(created.status).toBe(201);
    const deployment = DeploymentSchema.parse(created.body);
    await f.runner.whenDone(deployment.taskId);
    return deployment;
  };

  beforeEach(async () => {
    f = new DeploymentFixture();
    f.environment('Test', 'Staging');
    f.machine('web-1', ['web'], ['Test']);
    f.machine('web-2', ['web'], ['Test']);
    f.machine('db-1', ['db'], ['Test']);
    f.machine('web-9', ['web'], ['Staging']);
    f.machine('web-off', ['web'], ['Staging'], { disabled: true });
    f.pkg('Acme.Web', '1.0.0');
    f.project('Shop', steps);
    f.release('Shop', '1.0.0');
    f.jobs.autoFinish = () => ({});
    base = await f.listen();
  });
  afterEach(async () => {
    await f.close();
  });

  it('creates a deployment (201) that runs as a task, and lists and reads deployments and tasks', async () => {
    const created = await call('/deployments', 'POST', { project: 'shop', release: '1.0.0', environment: 'test' });
    expect(created.status).toBe(201);
    const deployment = DeploymentSchema.parse(created.body);
    expect(deployment).toMatchObject({ project: 'Shop', release: '1.0.0', environment: 'Test', machines: null, skipOffline: false, rollbackFrom: null, createdBy: 'admin' });
    expect(deployment.taskId).toBeGreaterThan(0);
    await f.runner.whenDone(deployment.taskId);

    const task = TaskSchema.parse((await call(`/tasks/${deployment.taskId}`)).body);
    expect(task).toMatchObject({ state: 'success', kind: 'deployment', description: 'Deploy Shop 1.0.0 to Test', deployment });
    expect(task.targets.map((t) => t.machine)).toEqual(['web-1', 'web-2']);

    expect(DeploymentSchema.parse((await call(`/deployments/${deployment.id}`)).body)).toEqual(deployment);
    expect(DeploymentListSchema.parse((await call('/deployments?project=Shop&environment=Test')).body).items).toEqual([deployment]);
    expect(DeploymentListSchema.parse((await call('/deployments?environment=Staging')).body).items).toEqual([]);
    expect(TaskListSchema.parse((await call('/tasks?state=success')).body).items.map((t) => t.id)).toEqual([deployment.taskId]);
    expect(TaskListSchema.parse((await call('/tasks?state=failed')).body).items).toEqual([]);

    const missing = await call('/deployments/999');
    expect([missing.status, errorCode(missing.body)]).toEqual([404, 'deployment-not-found']);
    const badId = await call('/tasks/abc');
    expect([badId.status, errorCode(badId.body)]).toEqual([400, 'invalid-request']);
    const badState = await call('/tasks?state=sleeping');
    expect(badState.status).toBe(400);
  });

  it.each([
    ['an unknown project', { project: 'Nope', release: '1.0.0', environment: 'Test' }, 404, 'project-not-found'],
    ['an unknown release', { project: 'Shop', release: '9.9.9', environment: 'Test' }, 404, 'release-not-found'],
    ['an unknown environment', { project: 'Shop', release: '1.0.0', environment: 'Prod' }, 404, 'environment-not-found'],
    ['an unknown machine', { project: 'Shop', release: '1.0.0', environment: 'Test', machines: ['ghost'] }, 400, 'machine-not-in-environment'],
    ['a machine of another environment', { project: 'Shop', release: '1.0.0', environment: 'Test', machines: ['web-1', 'web-9'] }, 400, 'machine-not-in-environment'],
    ['only machines without a matching role', { project: 'Shop', release: '1.0.0', environment: 'Test', machines: ['db-1'] }, 409, 'no-matching-machines'],
    ['only a disabled machine with the role', { project: 'Shop', release: '1.0.0', environment: 'Staging', machines: ['web-off'] }, 409, 'no-matching-machines'],
    ['an unknown field', { project: 'Shop', release: '1.0.0', environment: 'Test', colour: 'red' }, 400, 'invalid-request'],
    ['no release', { project: 'Shop', environment: 'Test' }, 400, 'invalid-request'],
  ])('refuses a deployment of %s', async (_what, body, status, code) => {
    const answer = await call('/deployments', 'POST', body);
    expect([answer.status, errorCode(answer.body)]).toEqual([status, code]);
    expect(TaskListSchema.parse((await call('/tasks')).body).items).toEqual([]);
  });

  it('names the machines outside the environment', async () => {
    const answer = await call('/deployments', 'POST', { project: 'Shop', release: '1.0.0', environment: 'Test', machines: ['web-1', 'web-9', 'ghost'] });
    expect(ErrorBodySchema.parse(answer.body).error.details).toMatchObject({ machines: ['web-9', 'ghost'] });
  });

  it('deploys only the named machines and skips disabled ones', async () => {
    f.machine('web-3', ['web'], ['Test'], { disabled: true });
    const deployment = await deployAndWait('1.0.0', { machines: ['web-2', 'web-3'] });
    expect(deployment.machines).toEqual(['web-2', 'web-3']);
    expect(TaskSchema.parse((await call(`/tasks/${deployment.taskId}`)).body).targets.map((t) => t.machine)).toEqual(['web-2']);
  });

  it('needs the admin scope', async () => {
    const push = f.apiKeys.create('ci', ['push']).key;
    for (const [route, method] of [
      ['/deployments', 'POST'],
      ['/deployments', 'GET'],
      ['/tasks/1', 'GET'],
      ['/tasks/1/cancel', 'POST'],
      ['/rollback', 'POST'],
      ['/dashboard', 'GET'],
      ['/status', 'GET'],
      ['/machines/web-1/releases', 'GET'],
    ] as const) {
      const answer = await call(route, method, method === 'POST' ? {} : undefined, push);
      expect([route, answer.status]).toEqual([route, 403]);
    }
    expect((await call('/dashboard', 'GET', undefined, 'wrong-key-123')).status).toBe(401);
  });

  it('cancels with 202 and refuses a finished task with 409 task-finished', async () => {
    f.jobs.autoFinish = null;
    const created = DeploymentSchema.parse((await call('/deployments', 'POST', { project: 'Shop', release: '1.0.0', environment: 'Test' })).body);
    await f.jobs.waitForRuns(1);
    const cancel = await call(`/tasks/${created.taskId}/cancel`, 'POST');
    expect(cancel.status).toBe(202);
    expect(TaskSchema.parse(cancel.body).cancelRequested).toBe(true);
    await f.runner.whenDone(created.taskId);
    expect(TaskSchema.parse((await call(`/tasks/${created.taskId}`)).body).state).toBe('cancelled');
    const again = await call(`/tasks/${created.taskId}/cancel`, 'POST');
    expect([again.status, errorCode(again.body)]).toEqual([409, 'task-finished']);
    const missing = await call('/tasks/999/cancel', 'POST');
    expect([missing.status, errorCode(missing.body)]).toEqual([404, 'task-not-found']);
  });

  it('rolls back to the release deployed successfully before the current one', async () => {
    const none = await call('/rollback', 'POST', { project: 'Shop', environment: 'Test' });
    expect([none.status, errorCode(none.body)]).toEqual([409, 'no-previous-release']);
    await deployAndWait('1.0.0');
    const one = await call('/rollback', 'POST', { project: 'Shop', environment: 'Test' });
    expect([one.status, errorCode(one.body)]).toEqual([409, 'no-previous-release']);

    f.release('Shop', '1.1.0');
    f.release('Shop', '1.2.0');
    await deployAndWait('1.1.0');
    await deployAndWait('1.1.0'); // a repeat of the current release is not "previous"
    f.jobs.autoFinish = (run: FakeRun) => (run.job.release === '1.2.0' ? { outcome: 'failed', error: { code: 'script-failed', message: 'Deploy.sh exited with 1' } } : {});
    await deployAndWait('1.2.0'); // fails: 1.1.0 stays current

    const rollback = await call('/rollback', 'POST', { project: 'Shop', environment: 'Test' });
    expect(rollback.status).toBe(201);
    const back = DeploymentSchema.parse(rollback.body);
    expect(back).toMatchObject({ release: '1.0.0', rollbackFrom: '1.1.0', environment: 'Test' });
    await f.runner.whenDone(back.taskId);
    const task = TaskSchema.parse((await call(`/tasks/${back.taskId}`)).body);
    expect(task).toMatchObject({ state: 'success', description: 'Roll back Shop in Test from 1.1.0 to 1.0.0' });
    expect(MachineReleaseListSchema.parse((await call('/machines/web-1/releases')).body).items[0]?.release).toBe('1.0.0');

    // in another environment nothing was deployed
    const staging = await call('/rollback', 'POST', { project: 'Shop', environment: 'Staging' });
    expect(errorCode(staging.body)).toBe('no-previous-release');
    const unknown = await call('/rollback', 'POST', { project: 'Nope', environment: 'Test' });
    expect([unknown.status, errorCode(unknown.body)]).toEqual([404, 'project-not-found']);
  });

  it('rolls back past a deployment that failed everywhere, to the release before a partly failed one, and never forward on a second rollback', async () => {
    const rollback = async () => {
      const answer = await call('/rollback', 'POST', { project: 'Shop', environment: 'Test' });
      if (answer.status !== 201) return { status: answer.status, code: errorCode(answer.body) };
      const deployment = DeploymentSchema.parse(answer.body);
      await f.runner.whenDone(deployment.taskId);
      return { status: answer.status, release: deployment.release, rollbackFrom: deployment.rollbackFrom };
    };
    // (d) nothing deployed yet
    expect(await rollback()).toEqual({ status: 409, code: 'no-previous-release' });
    f.release('Shop', '1.0.1');
    f.release('Shop', '1.0.2');
    let failOn: (run: FakeRun) => boolean = () => false;
    f.jobs.autoFinish = (run: FakeRun) => (failOn(run) ? { outcome: 'failed', error: { code: 'script-failed', message: 'Deploy.sh exited with 1' } } : {});
    await deployAndWait('1.0.0');
    await deployAndWait('1.0.1');
    // (a) 1.0.2 fails on every target: it changed nothing, 1.0.1 is current, the rollback deploys 1.0.0
    failOn = (run) => run.job.release === '1.0.2';
    await deployAndWait('1.0.2');
    expect(await rollback()).toEqual({ status: 201, release: '1.0.0', rollbackFrom: '1.0.1' });

    // (b) 1.0.2 fails on web-2 only (in its last step): web-1 runs it, so 1.0.2 is current and the rollback deploys 1.0.1
    await deployAndWait('1.0.1');
    failOn = (run) => run.job.release === '1.0.2' && run.machine === 'web-2' && run.job.step === 'Smoke';
    await deployAndWait('1.0.2');
    expect(await rollback()).toEqual({ status: 201, release: '1.0.1', rollbackFrom: '1.0.2' });
    // (c) a second rollback goes further back to 1.0.0, never forward to 1.0.2
    expect(await rollback()).toEqual({ status: 201, release: '1.0.0', rollbackFrom: '1.0.1' });
    expect(MachineReleaseListSchema.parse((await call('/machines/web-2/releases')).body).items[0]?.release).toBe('1.0.0');
  });

  it('shows release history, drift, the project environment, the dashboard and status, all in the shared shapes', async () => {
    f.setOnline('web-2', false);
    f.release('Shop', '1.1.0');
    await deployAndWait('1.0.0', { skipOffline: true });
    await deployAndWait('1.1.0', { machines: ['web-1'] });

    const releases = MachineReleaseListSchema.parse((await call('/machines/web-1/releases')).body).items;
    expect(releases).toEqual([
      expect.objectContaining({ machine: 'web-1', project: 'Shop', environment: 'Test', release: '1.1.0', drift: expect.objectContaining({ state: 'in-sync', onDisk: '1.1.0' }) }),
    ]);
    expect(MachineReleaseListSchema.parse((await call('/machines/web-2/releases')).body).items).toEqual([]);
    const ghost = await call('/machines/ghost/releases');
    expect([ghost.status, errorCode(ghost.body)]).toEqual([404, 'machine-not-found']);

    // the tentacle reports another release on disk: drifted
    f.jobs.reportInventory('web-1', [
      { app: { project: 'Shop', environment: 'Test', slot: null }, release: '1.0.0', packageId: 'Acme.Web', packageVersion: '1.0.0', deployedAt: null },
    ]);
    const view = ProjectEnvironmentSchema.parse((await call('/projects/Shop/environments/Test')).body);
    expect(view.machines.map((m) => m.machine)).toEqual(['web-1', 'web-2']);
    expect(view.machines[0]).toMatchObject({ online: true, disabled: false, roles: ['web'], current: { release: '1.1.0', drift: { state: 'drifted', onDisk: '1.0.0' } } });
    expect(view.machines[0]?.lastAttempt).toMatchObject({ release: '1.1.0', state: 'success' });
    expect(view.machines[1]).toMatchObject({ machine: 'web-2', online: false, current: null, lastAttempt: { release: '1.0.0', state: 'skipped' } });
    expect((await call('/projects/Shop/environments/Prod')).status).toBe(404);
    expect(errorCode((await call('/projects/Nope/environments/Test')).body)).toBe('project-not-found');

    await call('/environments/Staging', 'PATCH', { position: 0 });
    const dashboard = DashboardSchema.parse((await call('/dashboard')).body);
    expect(dashboard.environments).toEqual(['Staging', 'Test']);
    expect(dashboard.projects).toEqual([
      {
        project: 'Shop',
        environments: [
          { environment: 'Staging', latest: null, lastSuccess: null },
          { environment: 'Test', latest: expect.objectContaining({ release: '1.1.0', state: 'success' }), lastSuccess: '1.1.0' },
        ],
      },
    ]);

    const status = StatusListSchema.parse((await call('/status?project=Shop')).body).items;
    expect(status.map((r) => [r.environment, r.machine, r.release, r.drift.state])).toEqual([
      ['Staging', 'web-9', null, 'unknown'],
      ['Staging', 'web-off', null, 'unknown'],
      ['Test', 'web-1', '1.1.0', 'drifted'],
      ['Test', 'web-2', null, 'unknown'],
    ]);
    const one = StatusListSchema.parse((await call('/status?machine=web-1&environment=Test')).body).items;
    expect(one).toHaveLength(1);
    for (const [query, code] of [
      ['project=Nope', 'project-not-found'],
      ['environment=Prod', 'environment-not-found'],
      ['machine=ghost', 'machine-not-found'],
    ]) {
      const answer = await call(`/status?${query}`);
      expect([query, answer.status, errorCode(answer.body)]).toEqual([query, 404, code]);
    }
    expect((await call('/status?colour=red')).status).toBe(400);
  });

  it('keeps the history by name when a machine or the project is deleted', async () => {
    const deployment = await deployAndWait('1.0.0');
    expect((await call('/machines/web-2', 'DELETE')).status).toBe(204);
    const task = TaskSchema.parse((await call(`/tasks/${deployment.taskId}`)).body);
    expect(task.targets.map((t) => [t.machine, t.state])).toEqual([
      ['web-1', 'success'],
      ['web-2', 'success'],
    ]);
    expect(StatusListSchema.parse((await call('/status?environment=Test')).body).items.map((r) => r.machine)).toEqual(['web-1']);

    expect((await call('/projects/Shop', 'DELETE')).status).toBe(204);
    expect(DeploymentSchema.parse((await call(`/deployments/${deployment.id}`)).body).project).toBe('Shop');
    expect(TaskSchema.parse((await call(`/tasks/${deployment.taskId}`)).body).state).toBe('success');
    const log = await fetch(`${base}/api/v1/tasks/${deployment.taskId}/log`, { headers: { 'X-Api-Key': f.adminKey } });
    expect(await log.text()).toContain('[web-2] web-2: success');
    expect(DashboardSchema.parse((await call('/dashboard')).body).projects).toEqual([]);
    // the package is no longer used by any release
    expect((await call('/packages/Acme.Web/1.0.0', 'DELETE')).status).toBe(204);

    // a project made again under the same name sees what is on the machines (the disk layout is by name)
    f.project('Shop', steps);
    expect(StatusListSchema.parse((await call('/status?environment=Test')).body).items[0]).toMatchObject({ machine: 'web-1', release: '1.0.0' });
  });
});
