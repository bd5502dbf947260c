import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../log/logger.js';
import { deployHarnesses, type DeployHarness } from '../test-support/deploy-harness.js';
import { deployJob, jobPhases, jobResult, servePackage, startJob } from '../test-support/fake-hub-jobs.js';
import { waitFor } from '../test-support/wait.js';
import { buildZip, sha256Of } from '../test-support/zip-builder.js';
import { Deployer } from './deployer.js';
import type { AppState, ReleaseRecord } from './app-state.js';

const { temp, start } = deployHarnesses();

function record(release: string, folder = release): ReleaseRecord {
  return {
    release,
    packageId: 'Acme.Web',
    packageVersion: release,
    sha256: sha256Of(Buffer.from(release)),
    folder,
    deployedAt: '2025-01-01T00:00:00.000Z',
    taskId: 1,
    deploymentId: 1,
  };
}

/** An app folder as a deployment leaves it: releases/<folders>, app.json, and `current` -> releases/<linked>. */
async function appFolder(home: string, state: Omit<AppState, 'app'>, folders: string[], linked: string | null): Promise<string> {
  const dir = path.join(home, 'apps', 'shop', 'Test');
  for (const folder of folders) {
    await mkdir(path.join(dir, 'releases', folder), { recursive: true });
    await writeFile(path.join(dir, 'releases', folder, 'app.txt'), folder);
  }
  await writeFile(path.join(dir, 'app.json'), JSON.stringify({ app: { project: 'shop', environment: 'Test', slot: null }, ...state }));
  if (linked !== null) await symlink(`releases/${linked}`, path.join(dir, 'current'));
  return dir;
}

const recover = (home: string) => new Deployer({ home, log: createSilentLogger() }).recover();

describe('start-up recovery', () => {
  it('removes release folders app.json does not record, temp links and temp files; current stays', async () => {
    const home = await temp.make();
    const dir = await appFolder(home, { current: '1.0.0', installDir: null, releases: [record('1.0.0')], pending: null }, ['1.0.0', '1.0.1'], '1.0.0');
    await symlink('releases/1.0.1', path.join(dir, 'current.cuttle-new'));
    await writeFile(path.join(dir, 'app.json.abc123.tmp'), '{');
    await mkdir(path.join(home, 'work', 'job-9'), { recursive: true });
    const stateBefore = await readFile(path.join(dir, 'app.json'), 'utf8');

    const report = await recover(home);
    expect(report.removedFolders).toEqual([path.join(dir, 'releases', '1.0.1')]);
    expect(await readdir(path.join(dir, 'releases'))).toEqual(['1.0.0']);
    expect((await readdir(dir)).sort()).toEqual(['app.json', 'current', 'releases']);
    expect(await readlink(path.join(dir, 'current'))).toBe('releases/1.0.0');
    expect(await readFile(path.join(dir, 'app.json'), 'utf8')).toBe(stateBefore);
    expect(existsSync(path.join(home, 'work'))).toBe(false);
  });

  it('finishes a switch whose link already points at the new release, and undoes one whose link does not', async () => {
    const done = await temp.make();
    const doneDir = await appFolder(done, { current: '1.0.0', installDir: null, releases: [record('1.0.0')], pending: { record: record('1.0.1'), installDir: null } }, ['1.0.0', '1.0.1'], '1.0.1');
    expect((await recover(done)).settled).toEqual([{ app: 'shop/Test', outcome: 'promoted' }]);
    const promoted = JSON.parse(await readFile(path.join(doneDir, 'app.json'), 'utf8')) as AppState;
    expect(promoted).toMatchObject({ current: '1.0.1', pending: null });
    expect(promoted.releases.map((r) => r.folder)).toEqual(['1.0.0', '1.0.1']);
    expect((await readdir(path.join(doneDir, 'releases'))).sort()).toEqual(['1.0.0', '1.0.1']);

    const notDone = await temp.make();
    const notDoneDir = await appFolder(notDone, { current: '1.0.0', installDir: null, releases: [record('1.0.0')], pending: { record: record('1.0.1'), installDir: null } }, ['1.0.0', '1.0.1'], '1.0.0');
    expect((await recover(notDone)).settled).toEqual([{ app: 'shop/Test', outcome: 'dropped' }]);
    const dropped = JSON.parse(await readFile(path.join(notDoneDir, 'app.json'), 'utf8')) as AppState;
    expect(dropped).toMatchObject({ current: '1.0.0', pending: null });
    expect(await readdir(path.join(notDoneDir, 'releases'))).toEqual(['1.0.0']);
  });

  it('puts back an installDir whose swap was interrupted, and leaves an app with a damaged app.json alone', async () => {
    const home = await temp.make();
    const outside = await temp.make('cuttle-recovery-site-');
    const site = path.join(outside, 'site');
    // crashed between "old contents aside" and "copy into place"
    await mkdir(path.join(outside, '.site.cuttle-old'));
    await writeFile(path.join(outside, '.site.cuttle-old', 'app.txt'), 'old');
    await mkdir(path.join(outside, '.site.cuttle-new'));
    await writeFile(path.join(outside, '.site.cuttle-new', 'app.txt'), 'new');
    await appFolder(home, { current: '1.0.0', installDir: site, releases: [record('1.0.0')], pending: { record: record('1.0.1'), installDir: site } }, ['1.0.0', '1.0.1'], null);
    expect((await recover(home)).settled).toEqual([{ app: 'shop/Test', outcome: 'dropped' }]);
    expect(await readFile(path.join(site, 'app.txt'), 'utf8')).toBe('old');
    expect(await readdir(outside)).toEqual(['site']);

    const damaged = await temp.make();
    const dir = path.join(damaged, 'apps', 'shop', 'Test');
    await mkdir(path.join(dir, 'releases', 'x'), { recursive: true });
    await writeFile(path.join(dir, 'app.json'), '{not json');
    await recover(damaged);
    expect(await readdir(path.join(dir, 'releases'))).toEqual(['x']);
  });
});

describe('inventory', () => {
  it('lists every app folder with its current release (null when none) after each hello', async () => {
    const h = await start();
    const web = buildZip([{ name: 'a.txt', data: 'web' }]);
    const api = buildZip([{ name: 'a.txt', data: 'api' }]);
    const broken = buildZip([{ name: 'Deploy.sh', data: 'exit 1' }]);
    // the first hello's inventory: nothing installed yet
    expect(await h.inventory()).toEqual({ type: 'inventory', apps: [], activeJobs: [] });
    for (const [jobId, zip, overrides] of [
      ['web', web, {}],
      ['api', api, { release: '2.0.0', package: { id: 'Acme.Api', version: '2.0.0', sha256: sha256Of(api), size: api.length }, app: { project: 'shop', environment: 'Test', slot: 'api' } }],
      ['broken', broken, { app: { project: 'shop', environment: 'Staging', slot: null } }],
    ] as const) {
      startJob(h.socket, jobId, deployJob(zip, overrides));
      void servePackage(h.socket, jobId, zip);
      await jobResult(h.socket, jobId);
    }
    const socket = await h.cut();
    const inventory = await socket.nextMessage('inventory');
    const deployedAt = expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown;
    expect(inventory.activeJobs).toEqual([]);
    expect(inventory.apps).toEqual([
      { app: { project: 'shop', environment: 'Staging', slot: null }, release: null, packageId: null, packageVersion: null, deployedAt: null },
      { app: { project: 'shop', environment: 'Test', slot: null }, release: '1.0.0', packageId: 'Acme.Web', packageVersion: '1.0.0', deployedAt },
      { app: { project: 'shop', environment: 'Test', slot: 'api' }, release: '2.0.0', packageId: 'Acme.Api', packageVersion: '2.0.0', deployedAt },
    ]);
  });

  it('after a connection lost mid-script: the job is aborted, listed as active while it cleans up, and runs again once restarted', async () => {
    const out = await temp.make('cuttle-inventory-out-');
    const h = await start({ env: { ...process.env, TEST_OUT: out } });
    const zip = buildZip([
      { name: 'Deploy.sh', data: '[ -e "$TEST_OUT/go" ] && exit 0\necho $$ > "$TEST_OUT/waiting"\nsleep 300\n' },
      // the clean-up lasts until the test lets it end
      { name: 'DeployFailed.sh', data: 'while [ ! -e "$TEST_OUT/go" ]; do sleep 0.02; done\necho cleaned >> "$TEST_OUT/failed"\n' },
    ]);
    startJob(h.socket, 'job-1', deployJob(zip));
    void servePackage(h.socket, 'job-1', zip);
    await waitFor(() => existsSync(path.join(out, 'waiting')), 10_000, 'Deploy.sh to run');
    const socket = await h.cut();
    const inventory = await socket.nextMessage('inventory');
    expect(inventory.activeJobs).toEqual(['job-1']);

    await writeFile(path.join(out, 'go'), '');
    startJob(socket, 'job-1', deployJob(zip));
    const result = await jobResult(socket, 'job-1');
    expect(result).toMatchObject({ outcome: 'success', bytesReceived: 0, releaseDir: path.join(h.home, 'apps', 'shop', 'Test', 'releases', '1.0.0') });
    expect(await readFile(path.join(out, 'failed'), 'utf8')).toBe('cleaned\n');
    expect(jobPhases(socket, 'job-1')).toEqual(['transfer', 'extract', 'Deploy', 'switch']);
  });
});
