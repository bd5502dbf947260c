import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createJsonLogger, type Logger } from '../log/logger.js';
import { isAlive } from '../test-support/process-alive.js';
import { TempDirs } from '../test-support/temp-dir.js';
import { waitFor } from '../test-support/wait.js';
import { processStartTime } from './process-identity.js';
import { killLeftoverScripts, ScriptRecords, ScriptRecordSchema, type ScriptRecord } from './script-records.js';

const temp = new TempDirs();
const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});
afterAll(() => temp.cleanup());

function logger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createJsonLogger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>), level: 'debug' }) };
}

/**
 * A script as the runner starts it (its own process group), which ignores SIGTERM, as does the
 * child it leaves in the background; resolves with both PIDs once they run.
 */
async function stubbornGroup(out: string): Promise<{ leader: number; child: number }> {
  const proc = spawn('bash', ['-c', `trap "" TERM\nsleep 300 &\necho $! > "${out}/child"\nwhile :; do sleep 0.05; done\n`], { detached: true, stdio: 'ignore' });
  started.push(proc);
  const child = path.join(out, 'child');
  await waitFor(() => existsSync(child) && readFileSync(child, 'utf8').endsWith('\n'), 5_000, 'the script to start');
  return { leader: proc.pid ?? 0, child: Number(readFileSync(child, 'utf8')) };
}

async function writeRecord(dir: string, record: Partial<ScriptRecord> & { pid: number }): Promise<void> {
  await mkdir(dir, { recursive: true });
  const full: ScriptRecord = { pgid: record.pid, startTime: processStartTime(record.pid), script: 'Deploy.sh', file: '/x/Deploy.sh', jobId: 'job-1', startedAt: new Date().toISOString(), ...record };
  await writeFile(path.join(dir, `${record.pid}.json`), JSON.stringify(full));
}

describe('records of running scripts', () => {
  it('writes a record with the start time of the process, and removes it (and the empty folder) when told', async () => {
    const dir = path.join(await temp.make(), 'work', 'running');
    const records = new ScriptRecords(dir, logger().log);
    const remove = records.add({ pid: process.pid, pgid: process.pid, script: 'Deploy.sh', file: '/r/Deploy.sh', jobId: 'j' });
    expect(await readdir(dir)).toEqual([`${process.pid}.json`]);
    const record = ScriptRecordSchema.parse(JSON.parse(readFileSync(path.join(dir, `${process.pid}.json`), 'utf8')));
    expect(record).toMatchObject({ pid: process.pid, pgid: process.pid, script: 'Deploy.sh', jobId: 'j', startTime: processStartTime(process.pid) });
    expect(record.startTime).not.toBeNull();
    remove();
    expect(existsSync(dir)).toBe(false); // the folder exists only while scripts run
  });

  it('at start-up kills the whole group of a recorded script that still runs, SIGKILL when it ignores SIGTERM', async () => {
    const home = await temp.make();
    const dir = path.join(home, 'running');
    const { leader, child } = await stubbornGroup(home);
    await writeRecord(dir, { pid: leader });
    const { log, lines } = logger();

    const killed = await killLeftoverScripts(dir, log, 200);
    expect(killed).toEqual([{ pid: leader, script: 'Deploy.sh', jobId: 'job-1' }]);
    await waitFor(() => !isAlive(leader) && !isAlive(child), 5_000, 'the script and its child to die');
    expect(await readdir(dir)).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'killed a deploy script left running by an earlier run of the tentacle', pid: leader }));
  });

  it('never kills a process whose start time differs (a reused PID); removes records of gone processes and damaged ones', async () => {
    const home = await temp.make();
    const dir = path.join(home, 'running');
    const { leader, child } = await stubbornGroup(home);
    await writeRecord(dir, { pid: leader, startTime: 'linux:1' });
    const gone = spawn('true');
    const gonePid = gone.pid ?? 0;
    await new Promise((resolve) => gone.once('exit', resolve));
    await writeRecord(dir, { pid: gonePid, startTime: 'linux:12345' });
    await writeFile(path.join(dir, 'broken.json'), '{');
    await writeFile(path.join(dir, '77.json.abc.tmp'), '{');

    expect(await killLeftoverScripts(dir, logger().log, 200)).toEqual([]);
    expect(isAlive(leader)).toBe(true);
    expect(isAlive(child)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves alone a process whose record has no start time', async () => {
    const home = await temp.make();
    const dir = path.join(home, 'running');
    const { leader } = await stubbornGroup(home);
    await writeRecord(dir, { pid: leader, startTime: null });
    const { log, lines } = logger();
    expect(await killLeftoverScripts(dir, log, 200)).toEqual([]);
    expect(isAlive(leader)).toBe(true);
    expect(lines.some((l) => l.level === 'warn' && String(l.msg).includes('left alone'))).toBe(true);
  });

  it('finds nothing to do without a records folder', async () => {
    expect(await killLeftoverScripts(path.join(await temp.make(), 'nope'), logger().log, 200)).toEqual([]);
  });
});
