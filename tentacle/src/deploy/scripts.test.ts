import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_LIMITS } from '@cuttle/shared';
import { deployHarnesses, type DeployHarness } from '../test-support/deploy-harness.js';
import { deployJob, jobLines, jobMessages, jobPhases, jobResult, jobText, scriptJob, servePackage, startJob } from '../test-support/fake-hub-jobs.js';
import { waitFor } from '../test-support/wait.js';
import { buildZip, type ZipFileEntry } from '../test-support/zip-builder.js';
import { processStartTime } from './process-identity.js';

const { temp, start } = deployHarnesses();

async function setup(): Promise<{ h: DeployHarness; out: string }> {
  const out = await temp.make('cuttle-scripts-out-');
  const h = await start({ env: { ...process.env, TEST_OUT: out } });
  return { h, out };
}

/** Alive and not a zombie (a killed orphan may wait for a reaper that never comes in a container). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const pidIn = (file: string): number => Number(readFileSync(file, 'utf8').trim());

function startDeploy(h: DeployHarness, jobId: string, files: ZipFileEntry[], overrides: Parameters<typeof deployJob>[1] = {}): void {
  const zip = buildZip([{ name: 'app.txt', data: 'app' }, ...files]);
  startJob(h.socket, jobId, deployJob(zip, overrides));
  void servePackage(h.socket, jobId, zip).catch(() => {});
}

describe('deploy scripts', () => {
  it('kills the whole process tree of a script that runs past its timeout, even one that ignores SIGTERM', async () => {
    const { h, out } = await setup();
    startDeploy(
      h,
      'slow',
      [
        { name: 'Deploy.sh', data: 'trap "" TERM\nsleep 300 &\necho $! > "$TEST_OUT/child"\necho $$ > "$TEST_OUT/script"\nwhile :; do sleep 0.05; done\n' },
        { name: 'DeployFailed.sh', data: 'echo "cleanup ran" > "$TEST_OUT/failed"\n' },
      ],
      { scriptTimeoutSeconds: 1 },
    );
    const result = await jobResult(h.socket, 'slow');
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'script-timeout', message: 'Deploy.sh ran longer than its timeout of 1 s and was killed' } });
    await waitFor(() => !isAlive(pidIn(path.join(out, 'child'))) && !isAlive(pidIn(path.join(out, 'script'))), 5_000, 'the script and its child to die');
    expect(await readFile(path.join(out, 'failed'), 'utf8')).toBe('cleanup ran\n');
    expect(existsSync(path.join(h.home, 'apps', 'shop', 'Test', 'releases', '1.0.0'))).toBe(false);
    expect(existsSync(path.join(h.home, 'apps', 'shop', 'Test', 'current'))).toBe(false);
  });

  it('cancel kills a running script and its children, runs DeployFailed.sh and answers cancelled', async () => {
    const { h, out } = await setup();
    startDeploy(h, 'long', [
      { name: 'Deploy.sh', data: 'sleep 300 &\necho $! > "$TEST_OUT/child"\necho $$ > "$TEST_OUT/script"\nwait\n' },
      { name: 'DeployFailed.sh', data: 'touch "$TEST_OUT/failed"\n' },
    ]);
    await waitFor(() => existsSync(path.join(out, 'script')) && existsSync(path.join(out, 'child')), 10_000, 'the script to start');
    h.socket.send({ type: 'job-cancel', jobId: 'long', reason: 'stopped by alice' });
    const result = await jobResult(h.socket, 'long');
    expect(result).toMatchObject({ outcome: 'cancelled', releaseDir: null, error: { code: 'cancelled', message: 'the job was cancelled: stopped by alice' } });
    expect(isAlive(pidIn(path.join(out, 'script')))).toBe(false);
    await waitFor(() => !isAlive(pidIn(path.join(out, 'child'))), 5_000, 'the child to die');
    expect(existsSync(path.join(out, 'failed'))).toBe(true);
    expect(jobPhases(h.socket, 'long')).toEqual(['transfer', 'extract', 'Deploy', 'DeployFailed']);
    expect(existsSync(path.join(h.home, 'apps', 'shop', 'Test', 'releases', '1.0.0'))).toBe(false);
  });

  it('streams output as lines: batches within the limits, long lines cut, invalid UTF-8 replaced', async () => {
    const { h } = await setup();
    startDeploy(h, 'noisy', [
      {
        name: 'Deploy.sh',
        data: `for i in $(seq 1 1000); do echo "line $i"; done\nhead -c 20000 /dev/zero | tr '\\0' x; echo\nprintf '\\xff\\xfeok\\r\\n'\necho done >&2\n`,
      },
    ]);
    expect((await jobResult(h.socket, 'noisy')).outcome).toBe('success');
    const messages = jobMessages(h.socket, 'job-log', 'noisy');
    for (const message of messages) {
      expect(message.lines.length).toBeLessThanOrEqual(200);
      expect(message.lines.reduce((sum, l) => sum + l.text.length, 0)).toBeLessThanOrEqual(PROTOCOL_LIMITS.maxLogBatchChars);
    }
    const stdout = jobLines(h.socket, 'noisy').filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(stdout.slice(0, 1000)).toEqual(Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`));
    expect(stdout[1000]).toHaveLength(PROTOCOL_LIMITS.maxLogLineChars);
    expect(stdout[1000]?.endsWith('x…')).toBe(true);
    expect(stdout[1001]).toBe('\ufffd\ufffdok');
    expect(jobText(h.socket, 'noisy')).toContain('stderr: done');
    expect(h.socket.invalid).toEqual([]);
  });
});

describe('script output cap and records', () => {
  it('drops script output past the per-job line cap across all scripts, after one line; the scripts still run to the end', async () => {
    const out = await temp.make('cuttle-scripts-out-');
    const h = await start({ env: { ...process.env, TEST_OUT: out }, defaults: { killGraceMs: 300, outputDrainMs: 200, maxJobOutputLines: 50 } });
    startDeploy(h, 'chatty', [
      { name: 'PreDeploy.sh', data: 'for i in $(seq 1 30); do echo "pre $i"; done\n' },
      // far more than the cap: the script must not block on a full pipe
      { name: 'Deploy.sh', data: 'for i in $(seq 1 20000); do echo "deploy $i"; echo "err $i" >&2; done\n' },
      { name: 'PostDeploy.sh', data: 'echo post\ntouch "$TEST_OUT/post"\n' },
    ]);
    expect((await jobResult(h.socket, 'chatty')).outcome).toBe('success');
    expect(existsSync(path.join(out, 'post'))).toBe(true);
    const lines = jobLines(h.socket, 'chatty');
    const output = lines.filter((l) => l.stream === 'stdout' || l.stream === 'stderr');
    expect(output).toHaveLength(50);
    expect(output.slice(0, 30).map((l) => l.text)).toEqual(Array.from({ length: 30 }, (_, i) => `pre ${i + 1}`));
    const truncated = lines.filter((l) => l.text.startsWith('output truncated'));
    expect(truncated).toEqual([expect.objectContaining({ stream: 'warn', text: 'output truncated: further output of this job is dropped (limit 50 lines or 50 MiB)' })]);
    // the tentacle's own lines still come after the cap
    expect(lines.map((l) => l.text)).toContainEqual(expect.stringMatching(/^PostDeploy\.sh exited with 0 after /));
  });

  it('records a running script under work/running while it runs, and removes the record when it ends', async () => {
    const { h, out } = await setup();
    startDeploy(h, 'rec', [{ name: 'Deploy.sh', data: 'echo $$ > "$TEST_OUT/pid"\nwhile [ ! -e "$TEST_OUT/go" ]; do sleep 0.02; done\n' }]);
    await waitFor(() => existsSync(path.join(out, 'pid')) && readFileSync(path.join(out, 'pid'), 'utf8').endsWith('\n'), 10_000, 'Deploy.sh to start');
    const pid = pidIn(path.join(out, 'pid'));
    const records = path.join(h.home, 'work', 'running');
    expect(await readdir(records)).toEqual([`${pid}.json`]);
    expect(JSON.parse(await readFile(path.join(records, `${pid}.json`), 'utf8'))).toMatchObject({ pid, pgid: pid, script: 'Deploy.sh', jobId: 'rec', startTime: processStartTime(pid) });
    await writeFile(path.join(out, 'go'), '');
    expect((await jobResult(h.socket, 'rec')).outcome).toBe('success');
    expect(existsSync(records)).toBe(false); // the folder exists only while scripts run
  });

  it('refuses a run-script job whose id would be the records folder', async () => {
    const { h } = await setup();
    startJob(h.socket, 'running', scriptJob('echo hi\n'));
    expect(await jobResult(h.socket, 'running')).toMatchObject({ outcome: 'failed', error: { code: 'invalid-job', message: 'the job id "running" is reserved on the tentacle' } });
  });
});

describe('run-script jobs', () => {
  it('runs the script with bash in its own work folder with the job variables, and removes the folder after', async () => {
    const { h } = await setup();
    const script = 'echo "cwd $(pwd -P)"\necho "vars $CUTTLE_PROJECT $CUTTLE_ENVIRONMENT $CUTTLE_STEP $CUTTLE_RELEASE ${CUTTLE_PACKAGE_ID:-none} ${CUTTLE_RELEASE_DIR:-none}"\necho oops >&2\n';
    startJob(h.socket, 'smoke-1', scriptJob(script));
    const result = await jobResult(h.socket, 'smoke-1');
    expect(result).toMatchObject({ outcome: 'success', error: null, releaseDir: null, bytesReceived: 0 });
    const text = jobText(h.socket, 'smoke-1');
    expect(text).toContain(`stdout: cwd ${await realpath(path.join(h.home, 'work'))}/smoke-1`);
    expect(text).toContain('stdout: vars shop Test smoke 1.0.0 none none');
    expect(text).toContain('stderr: oops');
    expect(jobPhases(h.socket, 'smoke-1')).toEqual(['script']);
    expect(await readdir(path.join(h.home, 'work'))).toEqual([]);
  });

  it('fails with script-failed on a non-zero exit and script-timeout past its timeout', async () => {
    const { h } = await setup();
    startJob(h.socket, 'fails', scriptJob('echo "checking"\nexit 4\n'));
    expect(await jobResult(h.socket, 'fails')).toMatchObject({ outcome: 'failed', error: { code: 'script-failed', message: 'the script of step "smoke" exited with 4' } });
    startJob(h.socket, 'hangs', scriptJob('sleep 300\n', { timeoutSeconds: 1 }));
    expect(await jobResult(h.socket, 'hangs')).toMatchObject({ outcome: 'failed', error: { code: 'script-timeout' } });
    expect(await readdir(path.join(h.home, 'work'))).toEqual([]);
  });
});
