// The fanout benchmark's floor: the same zip extracted with Info-ZIP `unzip -q` into fresh
// folders, a fixed number at a time. No transfer, no hashing, no scripts: the least work a
// deployment of that zip to that many machines on this one machine can do.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** Extractions run this many at a time (the definition of the floor). */
export const FLOOR_CONCURRENCY = 2;
const STDERR_TAIL_CHARS = 16 * 1024;

/** Fails with a clear message when `unzip` is not on the PATH. */
export async function requireUnzip() {
  const result = await runUnzip(['-v']).catch((/** @type {NodeJS.ErrnoException} */ error) => {
    if (error.code === 'ENOENT') {
      throw new Error('`unzip` is not installed, and the fanout benchmark measures its floor with it: install it (Debian/Ubuntu: sudo apt-get install unzip) and run again');
    }
    throw error;
  });
  if (result.code !== 0) throw new Error(`\`unzip -v\` failed (exit ${result.code}): ${result.stderr}`);
  return /^UnZip \S+/m.exec(result.stdout)?.[0] ?? 'unzip';
}

/**
 * Extracts `zip` into `<dir>/<name>-1` ... `<dir>/<name>-<count>`, `concurrency` at a time, and
 * times the whole run and each extraction. The folders stay until the run's folder is removed
 * at its end: on ext4 without a journal, inodes deleted in the last minute (six, while their
 * inode table is unwritten) are skipped when new files are made, so deleting 100,000 files here
 * would make every later phase pay several times the CPU for each file it creates.
 * @param {import('./processes.mjs').Scope} scope  stops a running unzip when the benchmark is stopped
 * @param {{ zip: string, dir: string, count: number, name?: string, concurrency?: number, untimed?: () => Promise<void>, onStop?: () => void }} options
 *   name: the folders' prefix (default floor); untimed: runs before the clock starts (the caller flushes the disk there); onStop: right after it stops
 * @returns {Promise<{ totalMs: number, eachMs: number[], concurrency: number }>}
 */
export async function measureFloor(scope, { zip, dir, count, name = 'floor', concurrency = FLOOR_CONCURRENCY, untimed, onStop }) {
  /** @type {Set<import('node:child_process').ChildProcess>} */
  const running = new Set();
  scope.defer(() => {
    for (const child of running) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  });
  const folders = Array.from({ length: count }, (_, index) => path.join(dir, `${name}-${index + 1}`));
  await untimed?.();
  /** @type {number[]} */
  const eachMs = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < folders.length) {
      const folder = /** @type {string} */ (folders[next++]);
      const begun = performance.now();
      const result = await runUnzip(['-q', zip, '-d', folder], running);
      if (result.code !== 0) throw new Error(`\`unzip -q ${zip} -d ${folder}\` failed (exit ${result.code}): ${result.stderr}`);
      eachMs.push(performance.now() - begun);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const totalMs = performance.now() - started;
  onStop?.();
  return { totalMs, eachMs, concurrency: Math.min(concurrency, count) };
}

/**
 * Runs unzip to completion; while it runs, it is in `running` (for the scope's cleanup).
 * @param {string[]} args
 * @param {Set<import('node:child_process').ChildProcess>} [running]
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
function runUnzip(args, running) {
  return new Promise((resolve, reject) => {
    const child = spawn('unzip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running?.add(child);
    child.once('exit', () => running?.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout = (stdout + chunk).slice(-STDERR_TAIL_CHARS)));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS)));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
