import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, readlink, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployHarnesses, type DeployHarness } from '../test-support/deploy-harness.js';
import { deployJob, jobMessages, jobPhases, jobResult, jobText, servePackage, startJob } from '../test-support/fake-hub-jobs.js';
import { waitFor } from '../test-support/wait.js';
import { buildZip, type ZipFileEntry } from '../test-support/zip-builder.js';

const { temp, start } = deployHarnesses();

async function setup(): Promise<{ h: DeployHarness; out: string }> {
  const out = await temp.make('cuttle-deploy-out-');
  const h = await start({ env: { ...process.env, TEST_OUT: out } });
  return { h, out };
}

function pkg(version: string, extra: ZipFileEntry[] = []): Buffer {
  return buildZip([{ name: 'app.txt', data: `app ${version}\n` }, { name: 'bin/run', data: '#!/bin/sh\necho run\n', mode: 0o755 }, ...extra]);
}

/** Starts a deploy-package job, serves its package when asked, and returns the result. */
async function deploy(h: DeployHarness, jobId: string, zip: Buffer, overrides: Parameters<typeof deployJob>[1] = {}) {
  startJob(h.socket, jobId, deployJob(zip, overrides));
  const served = servePackage(h.socket, jobId, zip).catch(() => undefined);
  const result = await jobResult(h.socket, jobId);
  await Promise.race([served, Promise.resolve()]);
  return result;
}

const appDir = (h: DeployHarness, ...rest: string[]): string => path.join(h.home, 'apps', 'shop', 'Test', ...rest);

describe('deploy-package jobs', () => {
  it('installs a release: PreDeploy, Deploy, PostDeploy in order with the CUTTLE_ variables, then switches current', async () => {
    const { h, out } = await setup();
    const zip = pkg('1.0.0', [
      { name: 'PreDeploy.sh', data: 'echo pre >> "$TEST_OUT/order"\necho "pre says hi"\n' },
      {
        name: 'Deploy.sh',
        data: 'echo deploy >> "$TEST_OUT/order"\nenv | grep "^CUTTLE_" | sort > "$TEST_OUT/env"\npwd -P > "$TEST_OUT/pwd"\necho "to stderr" >&2\nprintf "no newline at the end"\n',
      },
      // the switch comes after PostDeploy: no `current` exists yet on a first install
      { name: 'PostDeploy.sh', data: 'echo post >> "$TEST_OUT/order"\n[ -e ../../current ] || echo "no current yet" > "$TEST_OUT/post"\n' },
    ]);
    const result = await deploy(h, 'job-1', zip);

    const releaseDir = appDir(h, 'releases', '1.0.0');
    expect(result).toMatchObject({ outcome: 'success', error: null, bytesReceived: zip.length, releaseDir });
    expect(await readlink(appDir(h, 'current'))).toBe('releases/1.0.0');
    expect(await readFile(appDir(h, 'current', 'app.txt'), 'utf8')).toBe('app 1.0.0\n');
    expect((await lstat(appDir(h, 'current', 'bin', 'run'))).mode & 0o777).toBe(0o755);
    expect(await readFile(path.join(out, 'order'), 'utf8')).toBe('pre\ndeploy\npost\n');
    expect(await readFile(path.join(out, 'post'), 'utf8')).toBe('no current yet\n');
    expect((await readFile(path.join(out, 'pwd'), 'utf8')).trim()).toBe(await realpath(releaseDir));
    const env = Object.fromEntries(
      (await readFile(path.join(out, 'env'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
    expect(env).toEqual({
      CUTTLE_DEPLOYMENT_ID: '7',
      CUTTLE_ENVIRONMENT: 'Test',
      CUTTLE_MACHINE: 'web-01',
      CUTTLE_PACKAGE_ID: 'Acme.Web',
      CUTTLE_PACKAGE_VERSION: '1.0.0',
      CUTTLE_PROJECT: 'shop',
      CUTTLE_RELEASE: '1.0.0',
      CUTTLE_RELEASE_DIR: releaseDir,
      CUTTLE_STEP: 'web',
      CUTTLE_TASK_ID: '11',
    });
    expect(jobPhases(h.socket, 'job-1')).toEqual(['transfer', 'extract', 'PreDeploy', 'Deploy', 'PostDeploy', 'switch']);
    const lines = jobMessages(h.socket, 'job-log', 'job-1').flatMap((m) => m.lines);
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stdout', text: 'pre says hi' }));
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stderr', text: 'to stderr' }));
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stdout', text: 'no newline at the end' }));
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'info', text: 'running Deploy.sh' }));
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'info', text: 'current -> releases/1.0.0' }));
    expect(lines.some((l) => /^Deploy\.sh exited with 0 after \d+\.\d s$/.test(l.text))).toBe(true);
    expect(lines.some((l) => /^extracted 5 files, /.test(l.text))).toBe(true);
    const state = JSON.parse(await readFile(appDir(h, 'app.json'), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({
      app: { project: 'shop', environment: 'Test', slot: null },
      current: '1.0.0',
      installDir: null,
      pending: null,
      releases: [{ release: '1.0.0', packageId: 'Acme.Web', packageVersion: '1.0.0', folder: '1.0.0', taskId: 11, deploymentId: 7 }],
    });
    // the package is cached under its SHA-256, the partial file gone
    expect(await readdir(path.join(h.home, 'packages'))).toEqual(expect.arrayContaining([`${deployJob(zip).package.sha256}.zip`]));
    expect(await readdir(path.join(h.home, 'packages', 'partial'))).toEqual([]);
    expect(h.socket.invalid).toEqual([]);
  });

  it('switches current to each new release and prunes old ones to retain, oldest first', async () => {
    const { h } = await setup();
    for (const [i, version] of ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4'].entries()) {
      const result = await deploy(h, `job-${i}`, pkg(version), { release: version, retain: 2 });
      expect(result.outcome).toBe('success');
      expect(await readlink(appDir(h, 'current'))).toBe(`releases/${version}`);
      expect(await readFile(appDir(h, 'current', 'app.txt'), 'utf8')).toBe(`app ${version}\n`);
      expect(existsSync(appDir(h, 'current.cuttle-new'))).toBe(false);
    }
    expect((await readdir(appDir(h, 'releases'))).sort()).toEqual(['1.0.2', '1.0.3', '1.0.4']);
    const state = JSON.parse(await readFile(appDir(h, 'app.json'), 'utf8')) as { releases: Array<{ folder: string }>; current: string };
    expect(state.releases.map((r) => r.folder)).toEqual(['1.0.2', '1.0.3', '1.0.4']);
    expect(state.current).toBe('1.0.4');
    expect(jobText(h.socket, 'job-4')).toContain('removed old release 1.0.1 (releases/1.0.1)');
  });

  it('runs DeployFailed.sh when Deploy.sh fails, removes the new folder and keeps current and app.json', async () => {
    const { h, out } = await setup();
    expect((await deploy(h, 'good', pkg('1.0.0'))).outcome).toBe('success');
    const stateBefore = await readFile(appDir(h, 'app.json'), 'utf8');
    const bad = pkg('1.0.1', [
      { name: 'Deploy.sh', data: 'echo "about to fail"\nexit 3\n' },
      { name: 'PostDeploy.sh', data: 'touch "$TEST_OUT/post-ran"\n' },
      { name: 'DeployFailed.sh', data: 'echo "$CUTTLE_RELEASE $(basename "$PWD")" > "$TEST_OUT/failed"\nexit 9\n' },
    ]);
    const result = await deploy(h, 'bad', bad, { release: '1.0.1' });

    expect(result).toMatchObject({ outcome: 'failed', releaseDir: null, error: { code: 'script-failed' } });
    expect(result.error?.message).toBe('Deploy.sh exited with 3');
    expect(await readFile(path.join(out, 'failed'), 'utf8')).toBe('1.0.1 1.0.1\n');
    expect(existsSync(path.join(out, 'post-ran'))).toBe(false);
    expect(existsSync(appDir(h, 'releases', '1.0.1'))).toBe(false);
    expect(await readlink(appDir(h, 'current'))).toBe('releases/1.0.0');
    expect(await readFile(appDir(h, 'app.json'), 'utf8')).toBe(stateBefore);
    expect(jobPhases(h.socket, 'bad')).toEqual(['transfer', 'extract', 'Deploy', 'DeployFailed']);
    const text = jobText(h.socket, 'bad');
    expect(text).toContain('stdout: about to fail');
    expect(text).toContain('error: Deploy.sh exited with 3 after');
    expect(text).toMatch(/error: DeployFailed\.sh exited with 9 after/);
  });

  it('puts a redeploy of the same release into <release>_2, from the cache without a transfer', async () => {
    const { h } = await setup();
    const zip = pkg('1.0.0');
    expect((await deploy(h, 'first', zip)).bytesReceived).toBe(zip.length);
    startJob(h.socket, 'again', deployJob(zip));
    const result = await jobResult(h.socket, 'again');
    expect(result).toMatchObject({ outcome: 'success', bytesReceived: 0, releaseDir: appDir(h, 'releases', '1.0.0_2') });
    expect(jobMessages(h.socket, 'package-request', 'again')).toEqual([]);
    expect(jobText(h.socket, 'again')).toContain('info: package Acme.Web 1.0.0 found in the cache');
    expect(await readlink(appDir(h, 'current'))).toBe('releases/1.0.0_2');
    expect((await readdir(appDir(h, 'releases'))).sort()).toEqual(['1.0.0', '1.0.0_2']);
  });

  it('receives a package again in the same job when its cached copy was damaged on disk', async () => {
    const { h } = await setup();
    const zip = pkg('1.0.0');
    expect((await deploy(h, 'first', zip)).bytesReceived).toBe(zip.length);
    // same size, different bytes: what a torn write after a power loss can leave
    const cached = path.join(h.home, 'packages', `${deployJob(zip).package.sha256}.zip`);
    const bytes = await readFile(cached);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    await writeFile(cached, bytes);
    const again = await deploy(h, 'again', zip);
    expect(again).toMatchObject({ outcome: 'success', bytesReceived: zip.length });
    expect(jobText(h.socket, 'again')).toContain('does not match its SHA-256; receiving it again');
    expect(await readFile(cached)).toEqual(zip);
  });

  it('replaces the contents of installDir instead of switching current', async () => {
    const { h } = await setup();
    const site = path.join(await temp.make('cuttle-install-dir-'), 'www', 'site');
    await mkdir(site, { recursive: true });
    await writeFile(path.join(site, 'stale.txt'), 'old');
    const first = await deploy(h, 'one', pkg('1.0.0'), { installDir: site });
    expect(first).toMatchObject({ outcome: 'success', releaseDir: site });
    expect((await readdir(site)).sort()).toEqual(['app.txt', 'bin']);
    expect((await lstat(path.join(site, 'bin', 'run'))).mode & 0o777).toBe(0o755);
    expect(existsSync(appDir(h, 'current'))).toBe(false);

    const second = await deploy(h, 'two', pkg('1.0.1', [{ name: 'extra.txt', data: 'x' }]), { installDir: site, release: '1.0.1' });
    expect(second.outcome).toBe('success');
    expect(await readFile(path.join(site, 'app.txt'), 'utf8')).toBe('app 1.0.1\n');
    expect((await readdir(site)).sort()).toEqual(['app.txt', 'bin', 'extra.txt']);
    expect((await readdir(path.dirname(site))).sort()).toEqual(['site']); // no temp siblings left
    const state = JSON.parse(await readFile(appDir(h, 'app.json'), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({ current: '1.0.1', installDir: site, pending: null });

    // a failing release leaves the installDir as it was
    const failing = await deploy(h, 'three', pkg('1.0.2', [{ name: 'PostDeploy.sh', data: 'exit 1' }]), { installDir: site, release: '1.0.2' });
    expect(failing.outcome).toBe('failed');
    expect(await readFile(path.join(site, 'app.txt'), 'utf8')).toBe('app 1.0.1\n');
    expect((await readdir(path.dirname(site))).sort()).toEqual(['site']);
  });

  it('answers busy to a second job for an app that is deploying, and runs a job for another app meanwhile', async () => {
    const { h, out } = await setup();
    const slow = pkg('1.0.0', [{ name: 'Deploy.sh', data: 'while [ ! -e "$TEST_OUT/go" ]; do sleep 0.02; done\n' }]);
    startJob(h.socket, 'slow', deployJob(slow));
    void servePackage(h.socket, 'slow', slow);
    await waitFor(() => jobPhases(h.socket, 'slow').includes('Deploy'), 10_000);

    const other = pkg('2.0.0');
    startJob(h.socket, 'same-app', deployJob(other, { release: '2.0.0' }));
    const busy = await jobResult(h.socket, 'same-app');
    expect(busy).toMatchObject({ outcome: 'failed', error: { code: 'busy' } });
    expect(busy.error?.message).toContain('slow');

    const api = await deploy(h, 'other-app', other, { release: '2.0.0', app: { project: 'shop', environment: 'Test', slot: 'api' } });
    expect(api).toMatchObject({ outcome: 'success', releaseDir: appDir(h, 'steps', 'api', 'releases', '2.0.0') });
    expect(jobMessages(h.socket, 'job-result', 'slow')).toEqual([]);

    await writeFile(path.join(out, 'go'), '');
    expect((await jobResult(h.socket, 'slow')).outcome).toBe('success');
  });

  it('refuses malformed and escaping jobs with invalid-job, and never crashes', async () => {
    const { h } = await setup();
    const zip = pkg('1.0.0');
    const refused = async (jobId: string, overrides: Parameters<typeof deployJob>[1]): Promise<string> => {
      startJob(h.socket, jobId, deployJob(zip, overrides));
      const result = await jobResult(h.socket, jobId);
      expect(result).toMatchObject({ outcome: 'failed', error: { code: 'invalid-job' } });
      return result.error?.message ?? '';
    };
    expect(await refused('p', { app: { project: '..', environment: 'Test', slot: null } })).toContain('cannot be a folder name');
    expect(await refused('e', { app: { project: 'shop', environment: 'a/../../..', slot: null } })).toContain('"/"');
    expect(await refused('r', { release: '../1.0.0' })).toContain('the release');
    expect(await refused('i', { installDir: path.join(h.home, 'apps') })).toContain("inside the tentacle's home");
    expect(await refused('i2', { installDir: path.dirname(h.home) })).toContain("contains the tentacle's home");
    expect(await refused('i3', { installDir: '/srv/../etc' })).toContain('normalized');
    startJob(h.socket, '..', deployJob(zip));
    expect((await jobResult(h.socket, '..')).error?.code).toBe('invalid-job');

    // schema violations: a readable job id gets a job-result, an unreadable one an error message
    h.socket.send({ type: 'job-start', jobId: 'bad-schema', job: { kind: 'deploy-package', project: 'x' } });
    const bad = await jobResult(h.socket, 'bad-schema');
    expect(bad).toMatchObject({ outcome: 'failed', error: { code: 'invalid-job' } });
    expect(bad.error?.message).toContain('invalid "job-start" message');
    const errorsBefore = h.socket.messages.filter((m) => m.type === 'error').length;
    h.socket.send({ type: 'job-start', jobId: 'no spaces allowed', job: {} });
    await waitFor(() => h.socket.messages.filter((m) => m.type === 'error').length > errorsBefore);
    expect(existsSync(path.join(h.home, 'apps'))).toBe(false);
    expect(h.socket.invalid).toEqual([]);
    // still serving
    expect((await deploy(h, 'fine', zip)).outcome).toBe('success');
  });
});
