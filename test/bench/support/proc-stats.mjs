// CPU time, open files and the open-file limit of a process, read from /proc (Linux only).
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';

/** Clock ticks per second when `getconf CLK_TCK` cannot be asked (the value on every Linux we know). */
export const DEFAULT_CLK_TCK = 100;

/** `getconf CLK_TCK`: the unit of utime and stime in /proc/<pid>/stat. */
export async function clockTicksPerSecond() {
  try {
    const { stdout } = await promisify(execFile)('getconf', ['CLK_TCK'], { timeout: 5_000 });
    const ticks = Number(stdout.trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : DEFAULT_CLK_TCK;
  } catch {
    return DEFAULT_CLK_TCK;
  }
}

/**
 * utime + stime of `pid` in clock ticks (fields 14 and 15 of /proc/<pid>/stat), or undefined.
 * The command name (field 2) may hold spaces and parentheses, so fields are counted after its last ')'.
 * @param {number} pid
 */
export function readCpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    const utime = Number(fields[14 - 3]);
    const stime = Number(fields[15 - 3]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts measuring the CPU time of `pid` now; `stop()` returns its CPU seconds and the share
 * of one core over the wall-clock window (undefined without /proc or when the process is gone).
 * @param {number} pid @param {number} ticksPerSecond
 */
export function startCpuMeter(pid, ticksPerSecond) {
  const startTicks = readCpuTicks(pid);
  const startedAt = performance.now();
  return {
    stop() {
      const endTicks = readCpuTicks(pid);
      const wallSeconds = (performance.now() - startedAt) / 1000;
      if (startTicks === undefined || endTicks === undefined) return { wallSeconds, cpuSeconds: undefined, percent: undefined };
      const cpuSeconds = (endTicks - startTicks) / ticksPerSecond;
      return { wallSeconds, cpuSeconds, percent: (cpuSeconds / wallSeconds) * 100 };
    },
  };
}

/** Number of open file descriptors of `pid`, or undefined. @param {number} pid */
export function countOpenFds(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/**
 * The "Max open files" limit of a process from /proc/<pid>/limits (`self` for this one).
 * @param {number | 'self'} pid
 * @returns {{ soft: number, hard: number } | undefined}  Infinity for "unlimited"
 */
export function readOpenFileLimit(pid) {
  try {
    const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    if (!match) return undefined;
    const value = (/** @type {string} */ text) => (text === 'unlimited' ? Infinity : Number(text));
    return { soft: value(/** @type {string} */ (match[1])), hard: value(/** @type {string} */ (match[2])) };
  } catch {
    return undefined;
  }
}

/**
 * `ulimit -n` and `ulimit -Hn` as a shell started from here sees them. Node raises its own soft
 * limit to the hard limit at start-up, and child processes inherit that raised limit.
 * @returns {Promise<{ soft: number, hard: number } | undefined>}
 */
export async function shellOpenFileLimit() {
  try {
    const { stdout } = await promisify(execFile)('sh', ['-c', 'ulimit -n; ulimit -Hn'], { timeout: 5_000 });
    const [soft, hard] = stdout.trim().split('\n').map((line) => (line.trim() === 'unlimited' ? Infinity : Number(line.trim())));
    return soft !== undefined && hard !== undefined && !Number.isNaN(soft) && !Number.isNaN(hard) ? { soft, hard } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The kernel's TcpExt ListenOverflows counter from /proc/net/netstat: connections dropped because
 * a listen queue was full (this network namespace, all processes), or undefined.
 */
export function readListenOverflows() {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((line) => line.startsWith('TcpExt:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const index = names.indexOf('ListenOverflows');
    return index > 0 && values[index] !== undefined ? Number(values[index]) : undefined;
  } catch {
    return undefined;
  }
}
