import { existsSync } from 'node:fs';
import { readFile, readdir, rename, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployWorld } from '../support/deploy-fixture.js';

const PROJECT_YAML = `
name: Acme
description: the web shop
steps:
  - name: Deploy web
    type: deploy-package
    package: Acme.Web
    roles: [web-server]
  - name: Migrate db
    type: run-script
    roles: [db-server]
    script: |
      echo "migrating $CUTTLE_RELEASE on $CUTTLE_MACHINE in $CUTTLE_ENVIRONMENT"
`;

/** A package whose scripts leave evidence of what ran, where, and with which variables. */
function webPackage(version: string, options: { fail?: boolean } = {}): Record<string, string> {
  return {
    'index.html': `<h1>Acme ${version}</h1>\n`,
    'PreDeploy.sh': 'echo pre > pre.txt\n',
    'Deploy.sh': options.fail
      ? 'echo "about to fail on $CUTTLE_MACHINE"\nexit 3\n'
      : [
          'echo "$CUTTLE_PROJECT|$CUTTLE_RELEASE|$CUTTLE_ENVIRONMENT|$CUTTLE_MACHINE|$CUTTLE_PACKAGE_ID|$CUTTLE_PACKAGE_VERSION|$CUTTLE_RELEASE_DIR|$PWD" > deployed.txt',
          'echo "deploying on $CUTTLE_MACHINE"',
          'echo "a warning on stderr" >&2',
          '',
        ].join('\n'),
    'PostDeploy.sh': 'echo post > post.txt\n',
    'DeployFailed.sh': 'echo "cleaning up after $CUTTLE_RELEASE"\necho "$CUTTLE_RELEASE" > ../../deploy-failed.txt\n',
  };
}

interface StatusItem {
  project: string;
  environment: string;
  machine: string;
  release: string | null;
  drift: { state: string; onDisk: string | null };
}

/**
 * The whole CI pipeline through the CLI against a real hub and three real tentacles in two
 * environments with two roles; every result is checked on the tentacles' disks.
 */
describe('deployments end to end', () => {
  let world: DeployWorld;
  const status = async (args: string[] = []): Promise<StatusItem[]> => {
    const r = await world.cli(['status', '--project', 'Acme', '--json', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { items: StatusItem[] }).items;
  };
  const latestTaskId = async (): Promise<number> => {
    const r = await world.get<{ items: Array<{ taskId: number; id: number }> }>('/api/v1/deployments?project=Acme');
    expect(r.status).toBe(200);
    return Math.max(...r.body.items.map((d) => d.taskId));
  };

  beforeAll(async () => {
    world = await DeployWorld.start([
      { name: 'web-t', role: 'web-server', env: 'Test' },
      { name: 'db-t', role: 'db-server', env: 'Test' },
      { name: 'web-p', role: 'web-server', env: 'Production' },
    ]);
    await world.applyProject(PROJECT_YAML);
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  it('packs, pushes, releases and deploys to Test, running every script with its variables', async () => {
    await world.pushPackage('Acme.Web', '1.0.0', webPackage('1.0.0'));
    const release = await world.cli(['release', 'create', '--project', 'Acme', '--version', '1.0.0']);
    expect(release.code, release.stderr).toBe(0);
    const deploy = await world.cli(['deploy', '--project', 'Acme', '--release', '1.0.0', '--environment', 'Test', '--wait']);
    expect(deploy.code, `${deploy.stdout}\n${deploy.stderr}`).toBe(0);

    expect(await world.currentOnDisk('web-t', 'Acme', 'Test')).toBe('1.0.0');
    const releaseDir = path.join(world.appDir('web-t', 'Acme', 'Test'), 'releases', '1.0.0');
    expect(await world.readCurrentFile('web-t', 'Acme', 'Test', 'index.html')).toBe('<h1>Acme 1.0.0</h1>\n');
    expect(await world.readCurrentFile('web-t', 'Acme', 'Test', 'pre.txt')).toBe('pre\n');
    expect(await world.readCurrentFile('web-t', 'Acme', 'Test', 'post.txt')).toBe('post\n');
    const [project, rel, env, machine, pkg, pkgVersion, dir, cwd] = (await world.readCurrentFile('web-t', 'Acme', 'Test', 'deployed.txt')).trim().split('|');
    expect({ project, rel, env, machine, pkg, pkgVersion }).toEqual({ project: 'Acme', rel: '1.0.0', env: 'Test', machine: 'web-t', pkg: 'Acme.Web', pkgVersion: '1.0.0' });
    expect(dir).toBe(releaseDir);
    expect(cwd).toBe(releaseDir);
    // the run-script step ran on the db server only; the package went to the web server only
    expect(existsSync(world.appDir('db-t', 'Acme', 'Test'))).toBe(false);
    expect(existsSync(world.appDir('web-p', 'Acme', 'Production'))).toBe(false);

    const task = await world.task(await latestTaskId());
    expect(task.state).toBe('success');
    expect(task.targets.map((t) => [t.machine, t.state]).sort()).toEqual([
      ['db-t', 'success'],
      ['web-t', 'success'],
    ]);
    expect(task.targets.find((t) => t.machine === 'web-t')!.bytesSent).toBeGreaterThan(0);
    const log = await world.log(task.id);
    expect(log).toMatch(/stdout +\[web-t\] deploying on web-t/);
    expect(log).toMatch(/stderr +\[web-t\] a warning on stderr/);
    expect(log).toMatch(/\[db-t\] migrating 1\.0\.0 on db-t in Test/);
  }, 60_000);

  it('switches current to the next release and keeps the previous one', async () => {
    await world.pushPackage('Acme.Web', '1.0.1', webPackage('1.0.1'));
    expect((await world.cli(['release', 'create', '--project', 'Acme'])).code).toBe(0); // next patch: 1.0.1
    const deploy = await world.cli(['deploy', '--project', 'Acme', '--release', '1.0.1', '--environment', 'Test', '--wait']);
    expect(deploy.code, `${deploy.stdout}\n${deploy.stderr}`).toBe(0);
    expect(await world.currentOnDisk('web-t', 'Acme', 'Test')).toBe('1.0.1');
    expect(await world.readCurrentFile('web-t', 'Acme', 'Test', 'index.html')).toBe('<h1>Acme 1.0.1</h1>\n');
    expect((await readdir(path.join(world.appDir('web-t', 'Acme', 'Test'), 'releases'))).sort()).toEqual(['1.0.0', '1.0.1']);
  }, 60_000);

  it('leaves the previous release current when a deploy script fails, and says why', async () => {
    await world.pushPackage('Acme.Web', '1.0.2', webPackage('1.0.2', { fail: true }));
    expect((await world.cli(['release', 'create', '--project', 'Acme', '--version', '1.0.2'])).code).toBe(0);
    const deploy = await world.cli(['deploy', '--project', 'Acme', '--release', '1.0.2', '--environment', 'Test', '--wait']);
    expect(deploy.code).toBe(1);
    expect(`${deploy.stdout}\n${deploy.stderr}`).toMatch(/web-t/);
    expect(`${deploy.stdout}\n${deploy.stderr}`).toMatch(/Deploy\.sh/);

    expect(await world.currentOnDisk('web-t', 'Acme', 'Test')).toBe('1.0.1');
    expect(existsSync(path.join(world.appDir('web-t', 'Acme', 'Test'), 'releases', '1.0.2'))).toBe(false);
    expect(await readFile(path.join(world.appDir('web-t', 'Acme', 'Test'), 'deploy-failed.txt'), 'utf8')).toBe('1.0.2\n');

    const task = await world.task(await latestTaskId());
    expect(task.state).toBe('failed');
    const web = task.targets.find((t) => t.machine === 'web-t')!;
    expect(web).toMatchObject({ state: 'failed', errorCode: 'script-failed' });
    expect(web.error).toMatch(/Deploy\.sh/);
    // the run-script step comes after the failed step and did not run
    expect(task.targets.find((t) => t.machine === 'db-t')?.state ?? 'skipped').not.toBe('success');
    const log = await world.log(task.id);
    expect(log).toMatch(/\[web-t\] about to fail on web-t/);
    expect(log).toMatch(/\[web-t\] cleaning up after 1\.0\.2/);
    // the hub's record still says 1.0.1
    expect((await status(['--environment', 'Test'])).find((s) => s.machine === 'web-t')?.release).toBe('1.0.1');
  }, 60_000);

  it('rolls back to the previous successful release without sending the package again', async () => {
    const rollback = await world.cli(['rollback', '--project', 'Acme', '--environment', 'Test', '--wait']);
    expect(rollback.code, `${rollback.stdout}\n${rollback.stderr}`).toBe(0);
    expect(await world.readCurrentFile('web-t', 'Acme', 'Test', 'index.html')).toBe('<h1>Acme 1.0.0</h1>\n');
    expect(await world.currentOnDisk('web-t', 'Acme', 'Test')).toMatch(/^1\.0\.0(_\d+)?$/);
    const task = await world.task(await latestTaskId());
    expect(task.state).toBe('success');
    expect(task.targets.find((t) => t.machine === 'web-t')!.bytesSent).toBe(0);
    expect((await status(['--environment', 'Test'])).find((s) => s.machine === 'web-t')?.release).toBe('1.0.0');
  }, 60_000);

  it('agrees with the disk in `cuttle status` and the API, and shows a hand-edited machine as drifted', async () => {
    const items = await status();
    const web = items.find((s) => s.machine === 'web-t' && s.environment === 'Test')!;
    expect(web.release).toBe('1.0.0');
    expect(web.drift.state).toBe('in-sync');
    const byMachine = await world.get<{ items: Array<{ project: string; environment: string; release: string }> }>('/api/v1/machines/web-t/releases');
    expect(byMachine.body.items).toEqual([expect.objectContaining({ project: 'Acme', environment: 'Test', release: '1.0.0' })]);
    const table = await world.cli(['status', '--project', 'Acme']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/web-t.*1\.0\.0/);

    // someone points `current` at 1.0.1 by hand; the tentacle reports its disk when it reconnects
    const app = world.appDir('web-t', 'Acme', 'Test');
    await symlink('releases/1.0.1', path.join(app, 'current.hand'));
    await rename(path.join(app, 'current.hand'), path.join(app, 'current'));
    await world.restartTentacle('web-t');
    const drifted = await (async () => {
      for (let i = 0; i < 100; i++) {
        const row = (await status()).find((s) => s.machine === 'web-t' && s.environment === 'Test');
        if (row?.drift.state === 'drifted') return row;
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    })();
    expect(drifted?.drift.onDisk).toBe('1.0.1');
    expect(drifted?.release).toBe('1.0.0');
  }, 60_000);

  it('fails an offline target with a clear reason, and deploys once it is back', async () => {
    await world.tentacles.get('web-p')!.stop();
    await world.waitOffline('web-p');
    const deploy = await world.cli(['deploy', '--project', 'Acme', '--release', '1.0.1', '--environment', 'Production', '--wait']);
    expect(deploy.code).toBe(1);
    const failed = await world.task(await latestTaskId());
    expect(failed.targets).toEqual([expect.objectContaining({ machine: 'web-p', state: 'failed', errorCode: 'machine-offline' })]);

    await world.restartTentacle('web-p');
    const again = await world.cli(['deploy', '--project', 'Acme', '--release', '1.0.1', '--environment', 'Production', '--wait']);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(await world.currentOnDisk('web-p', 'Acme', 'Production')).toBe('1.0.1');
  }, 60_000);

  it('shows projects x environments on the dashboard', async () => {
    const r = await world.get<{ environments: string[]; projects: Array<{ project: string; environments: Array<{ environment: string; latest: { release: string; state: string } | null }> }> }>(
      '/api/v1/dashboard',
    );
    expect(r.status).toBe(200);
    expect(r.body.environments).toEqual(['Test', 'Production']);
    const acme = r.body.projects.find((p) => p.project === 'Acme')!;
    expect(acme.environments.map((e) => [e.environment, e.latest?.release, e.latest?.state])).toEqual([
      ['Test', '1.0.0', 'success'],
      ['Production', '1.0.1', 'success'],
    ]);
  });

  it('refuses deployments of unknown things with clear codes', async () => {
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ project: 'Nope', release: '1.0.0', environment: 'Test' }, 404, 'project-not-found'],
      [{ project: 'Acme', release: '9.9.9', environment: 'Test' }, 404, 'release-not-found'],
      [{ project: 'Acme', release: '1.0.0', environment: 'Nowhere' }, 404, 'environment-not-found'],
      [{ project: 'Acme', release: '1.0.0', environment: 'Test', machines: ['web-p'] }, 400, 'machine-not-in-environment'],
      [{ project: 'Acme', release: '1.0.0', environment: 'Test', machines: ['ghost'] }, 400, 'machine-not-in-environment'],
      [{ project: 'Acme', environment: 'Test' }, 400, 'invalid-request'],
    ];
    for (const [body, statusCode, code] of cases) {
      const r = await world.post<{ error?: { code: string } }>('/api/v1/deployments', body);
      expect([r.status, r.body.error?.code], JSON.stringify(body)).toEqual([statusCode, code]);
    }
    expect((await world.get('/api/v1/tasks/999999')).status).toBe(404);
    const usage = await world.cli(['deploy', '--project', 'Acme', '--environment', 'Test']);
    expect(usage.code).toBe(2);
  });
});
