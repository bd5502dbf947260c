import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployWorld } from '../support/deploy-fixture.js';
import { waitFor } from '../support/processes.js';

/** Deploy.sh hangs while `<app>/hang` exists, after leaving `<app>/started` as a sign it runs. */
const HANGING_DEPLOY = 'if [ -f ../../hang ]; then touch ../../started; sleep 60; fi\necho "deployed $CUTTLE_RELEASE"\n';

const project = (name: string, pkg: string, extra = '') => `
name: ${name}
steps:
  - name: Deploy
    type: deploy-package
    package: ${pkg}
    roles: [web-server]
${extra}`;

/**
 * Faults during deployments, each against real processes: corrupt bytes, scripts that fail or
 * hang, a tentacle killed mid-transfer and mid-script, the hub killed mid-deployment.
 */
describe('deployment faults', () => {
  let world: DeployWorld;
  let nextVersion = 0;
  /** Pushes a new version, makes a release of it and deploys it; resolves with the finished task. */
  const deploy = async (projectName: string, pkg: string, files: Record<string, string | Buffer>, wait = true) => {
    const version = `1.0.${nextVersion++}`;
    await world.pushPackage(pkg, version, files);
    const release = await world.cli(['release', 'create', '--project', projectName, '--version', version]);
    expect(release.code, release.stderr).toBe(0);
    const created = await world.post<{ taskId: number }>('/api/v1/deployments', { project: projectName, release: version, environment: 'Test' });
    expect(created.status).toBe(201);
    return { version, taskId: created.body.taskId, task: wait ? await world.waitTaskDone(created.body.taskId) : undefined };
  };
  const redeploy = async (projectName: string, version: string) => {
    const created = await world.post<{ taskId: number }>('/api/v1/deployments', { project: projectName, release: version, environment: 'Test' });
    expect(created.status).toBe(201);
    return world.waitTaskDone(created.body.taskId);
  };
  const app = (projectName: string) => world.appDir('web-1', projectName, 'Test');

  beforeAll(async () => {
    world = await DeployWorld.start([{ name: 'web-1', role: 'web-server', env: 'Test' }], ['--transfer-reconnect-grace', '3']);
    for (const [name, pkg, extra] of [
      ['Corrupt', 'Corrupt.Web', ''],
      ['Hang', 'Hang.Web', '    timeoutSeconds: 2\n'],
      ['Kill', 'Kill.Web', ''],
      ['Big', 'Big.Web', ''],
    ] as const) {
      await world.applyProject(project(name, pkg, extra));
    }
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  it('fails the target when the package bytes arrive corrupted, keeping nothing of them', async () => {
    const good = await deploy('Corrupt', 'Corrupt.Web', { 'a.txt': 'one\n' });
    expect(good.task?.state).toBe('success');
    // a second version whose stored bytes are damaged on the hub's disk after the upload
    const version = `1.0.${nextVersion++}`;
    await world.pushPackage('Corrupt.Web', version, { 'a.txt': 'two\n', 'b.txt': 'x'.repeat(10_000) });
    const info = await world.get<{ sha256: string; size: number }>(`/api/v1/packages/Corrupt.Web/${version}`);
    const blob = path.join(world.dataDir, 'packages', 'sha256', info.body.sha256.slice(0, 2), `${info.body.sha256}.zip`);
    const handle = await open(blob, 'r+');
    await handle.write(Buffer.from('CORRUPTED'), 0, 9, Math.floor(info.body.size / 2));
    await handle.close();
    expect((await world.cli(['release', 'create', '--project', 'Corrupt', '--version', version])).code).toBe(0);
    const created = await world.post<{ taskId: number }>('/api/v1/deployments', { project: 'Corrupt', release: version, environment: 'Test' });
    const task = await world.waitTaskDone(created.body.taskId);
    expect(task.state).toBe('failed');
    expect(task.targets[0]).toMatchObject({ machine: 'web-1', state: 'failed', errorCode: 'package-corrupt' });
    expect(task.targets[0]!.error).toMatch(/SHA-256/i);
    expect(await world.currentOnDisk('web-1', 'Corrupt', 'Test')).toBe(good.version);
    expect(existsSync(path.join(world.home('web-1'), 'packages', `${info.body.sha256}.zip`))).toBe(false);
  }, 60_000);

  it('fails a failing script and kills a hanging one at its timeout; the previous release stays current', async () => {
    const good = await deploy('Hang', 'Hang.Web', { 'Deploy.sh': 'echo ok\n' });
    expect(good.task?.state).toBe('success');
    const failing = await deploy('Hang', 'Hang.Web', { 'Deploy.sh': 'echo "no database"; exit 7\n' });
    expect(failing.task?.targets[0]).toMatchObject({ state: 'failed', errorCode: 'script-failed' });
    expect(failing.task?.targets[0]?.error).toMatch(/Deploy\.sh.*7/);
    const hanging = await deploy('Hang', 'Hang.Web', { 'Deploy.sh': 'echo "waiting forever"; sleep 120\n' });
    expect(hanging.task?.targets[0]).toMatchObject({ state: 'failed', errorCode: 'script-timeout' });
    expect(await world.currentOnDisk('web-1', 'Hang', 'Test')).toBe(good.version);
    const releases = await readdir(path.join(app('Hang'), 'releases'));
    expect(releases).toEqual([good.version]);
  }, 60_000);

  it('survives a tentacle killed mid-script: the target fails, the unfinished folder goes, a retry succeeds', async () => {
    const good = await deploy('Kill', 'Kill.Web', { 'Deploy.sh': HANGING_DEPLOY });
    expect(good.task?.state).toBe('success');
    await writeFile(path.join(app('Kill'), 'hang'), '');
    const stuck = await deploy('Kill', 'Kill.Web', { 'Deploy.sh': HANGING_DEPLOY }, false);
    await waitFor(() => (existsSync(path.join(app('Kill'), 'started')) ? true : undefined), 30_000, 'Deploy.sh to start');
    await rm(path.join(app('Kill'), 'started')); // a later test waits for its own marker
    await world.tentacles.get('web-1')!.stop('SIGKILL');
    const failed = await world.waitTaskDone(stuck.taskId);
    expect(failed.state).toBe('failed');
    expect(failed.targets[0]).toMatchObject({ state: 'failed', errorCode: 'connection-lost' });
    expect(await world.currentOnDisk('web-1', 'Kill', 'Test')).toBe(good.version);

    await rm(path.join(app('Kill'), 'hang'));
    await world.restartTentacle('web-1');
    // the restarted tentacle removed the release folder the killed one never finished
    await waitFor(async () => ((await readdir(path.join(app('Kill'), 'releases'))).includes(stuck.version) ? undefined : true), 10_000, 'the unfinished release folder to go');
    const retry = await redeploy('Kill', stuck.version);
    expect(retry.state).toBe('success');
    expect(await world.currentOnDisk('web-1', 'Kill', 'Test')).toBe(stuck.version);
  }, 90_000);

  it('resumes a transfer cut by a tentacle kill when it comes back in time, and fails it when not', async () => {
    // random bytes in a .gz are stored, not deflated: the zip is as large as the payload
    const big = () => ({ 'payload.gz': randomBytes(40 * 1024 * 1024), 'Deploy.sh': 'echo deployed\n' });
    const partialDir = path.join(world.home('web-1'), 'packages', 'partial');
    const killMidTransfer = async () => {
      await waitFor(
        async () => {
          const parts = existsSync(partialDir) ? await readdir(partialDir) : [];
          for (const part of parts) if ((await stat(path.join(partialDir, part)).catch(() => null))?.size) return true;
          return undefined;
        },
        30_000,
        'a partly received package',
      );
      await world.tentacles.get('web-1')!.stop('SIGKILL');
    };

    // not back within the grace (3 s): the target fails, saying so, and nothing is installed
    const first = await deploy('Big', 'Big.Web', big(), false);
    await killMidTransfer();
    const failed = await world.waitTaskDone(first.taskId);
    expect(failed.targets[0]).toMatchObject({ state: 'failed', errorCode: 'connection-lost' });
    expect(failed.targets[0]!.error).toMatch(/did not come back/);
    expect(await world.currentOnDisk('web-1', 'Big', 'Test')).toBeNull();

    // a retry sends only what the killed tentacle had not received yet
    await world.restartTentacle('web-1');
    const retry = await redeploy('Big', first.version);
    expect(retry.state).toBe('success');
    const size = (await world.get<{ size: number }>(`/api/v1/packages/Big.Web/${first.version}`)).body.size;
    expect(retry.targets[0]!.bytesSent).toBeLessThan(size);
    expect(await world.log(retry.id)).toMatch(/resuming the transfer of package Big\.Web/);
    expect(await world.currentOnDisk('web-1', 'Big', 'Test')).toBe(first.version);

    // back within the grace: the same task resumes the transfer and finishes; the old release stayed current until then
    const second = await deploy('Big', 'Big.Web', big(), false);
    await killMidTransfer();
    expect(await world.currentOnDisk('web-1', 'Big', 'Test')).toBe(first.version);
    await world.restartTentacle('web-1');
    const resumed = await world.waitTaskDone(second.taskId);
    expect(resumed.state).toBe('success');
    expect(await world.log(second.taskId)).toMatch(/waiting up to 3 s for it to come back/);
    expect(await world.currentOnDisk('web-1', 'Big', 'Test')).toBe(second.version);
  }, 150_000);

  it('fails the running task after the hub is killed, corrupts nothing, and deploys again', async () => {
    await rm(path.join(app('Kill'), 'started'), { force: true }); // only this deployment's Deploy.sh may write it
    await writeFile(path.join(app('Kill'), 'hang'), '');
    const before = await world.currentOnDisk('web-1', 'Kill', 'Test');
    const running = await deploy('Kill', 'Kill.Web', { 'Deploy.sh': HANGING_DEPLOY }, false);
    await waitFor(() => (existsSync(path.join(app('Kill'), 'started')) ? true : undefined), 30_000, 'Deploy.sh to start');
    await rm(path.join(app('Kill'), 'started'));
    await world.restartHub('SIGKILL');
    const task = await world.task(running.taskId);
    expect(task.state).toBe('failed');
    expect(task.error).toMatch(/interrupted by hub restart/);
    await world.waitOnline('web-1');
    expect(await world.currentOnDisk('web-1', 'Kill', 'Test')).toBe(before);

    await rm(path.join(app('Kill'), 'hang'));
    const again = await redeploy('Kill', running.version);
    expect(again.state).toBe('success');
    expect(await world.currentOnDisk('web-1', 'Kill', 'Test')).toBe(running.version);
  }, 90_000);
});
