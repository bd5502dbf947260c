// Before each timed phase the disk is brought to rest, so that no contender pays for the work
// the one before it left behind: dirty pages are flushed (sync(1)), then the run waits until
// the block device under the benchmark's folder has finished its queue. The waiting matters on
// file systems mounted with `discard`: deleting a large tree (a floor's folders, a package tree)
// makes the device trim for many seconds after sync returns, and file creation meanwhile costs
// several times its usual CPU. Linux only (/sys/dev/block); elsewhere it is sync alone.
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const POLL_MS = 250;
/** The device counts as at rest when nothing moved for this long. */
const QUIET_MS = 1000;
/** Never wait longer than this for the device (a busy neighbour must not stall the run). */
const MAX_WAIT_MS = 120_000;

/**
 * sync(1), then waits (up to two minutes) until the device holding `dir` has no request in
 * flight and its write and discard counters stood still for a second.
 * @param {string} dir
 * @returns {Promise<{ waitedMs: number, quiet: boolean | undefined }>} quiet: undefined where the device's counters cannot be read
 */
export async function settleDisk(dir) {
  const started = performance.now();
  await promisify(execFile)('sync', [], { timeout: MAX_WAIT_MS }).catch(() => undefined);
  const statFile = await deviceStatFile(dir);
  if (statFile === undefined) return { waitedMs: performance.now() - started, quiet: undefined };
  let last = await readActivity(statFile);
  let stillSince = performance.now();
  while (last !== undefined && performance.now() - started < MAX_WAIT_MS) {
    await sleep(POLL_MS);
    const now = await readActivity(statFile);
    if (now === undefined) return { waitedMs: performance.now() - started, quiet: undefined };
    if (now.inFlight > 0 || now.moved !== last.moved) stillSince = performance.now();
    else if (performance.now() - stillSince >= QUIET_MS) return { waitedMs: performance.now() - started, quiet: true };
    last = now;
  }
  return { waitedMs: performance.now() - started, quiet: last === undefined ? undefined : false };
}

/**
 * /sys/dev/block/<major>:<minor>, the sysfs folder of the block device (or partition) that holds
 * `dir` (Linux; the folder may be missing elsewhere). Throws when `dir` cannot be stat-ed.
 * @param {string} dir
 */
export async function blockDeviceFolder(dir) {
  const { dev } = await stat(dir);
  // Linux dev_t: major in bits 8-19 (and 32+), minor in bits 0-7 and 20-31
  const major = ((dev >> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  return `/sys/dev/block/${major}:${minor}`;
}

/** The stat file of the device (or partition) that holds `dir`, if readable. @param {string} dir */
async function deviceStatFile(dir) {
  try {
    const file = `${await blockDeviceFolder(dir)}/stat`;
    return (await readActivity(file)) === undefined ? undefined : file;
  } catch {
    return undefined;
  }
}

/**
 * Requests in flight, and a sum of the counters that move while the device works: writes
 * completed and sectors written (fields 5 and 7), discards completed and sectors discarded
 * (fields 12 and 14, on kernels that have them).
 * @param {string} file
 */
async function readActivity(file) {
  try {
    const fields = (await readFile(file, 'utf8')).trim().split(/\s+/).map(Number);
    if (fields.length < 11 || fields.some(Number.isNaN)) return undefined;
    const at = (/** @type {number} */ field) => fields[field - 1] ?? 0;
    return { inFlight: at(9), moved: at(5) + at(7) + at(12) + at(14) };
  } catch {
    return undefined;
  }
}
