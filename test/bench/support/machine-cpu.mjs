// How busy the whole machine was during a timed phase, and how much of that was the benchmark's
// own processes: on a shared machine, other work skews a ratio taken in the same run, and this
// says by how much (Linux only: /proc/stat and /proc/<pid>/stat).
import { readFileSync } from 'node:fs';
import { readCpuTicks } from './proc-stats.mjs';

/**
 * The machine's CPU ticks since boot from the `cpu` line of /proc/stat, or undefined.
 * busy: user + nice + system + irq + softirq; steal: time the hypervisor gave to someone else.
 */
export function readMachineTicks() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
    if (line === undefined || [user, nice, system, idle].some(Number.isNaN)) return undefined;
    return { busy: user + nice + system + irq + softirq, iowait, steal };
  } catch {
    return undefined;
  }
}

/**
 * CPU ticks of this process plus its children that have exited and been waited for
 * (utime, stime, cutime, cstime: fields 14 to 17 of /proc/self/stat), or undefined.
 */
export function readOwnTicks() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3
    const values = [14, 15, 16, 17].map((field) => Number(fields[field - 3]));
    return values.some(Number.isNaN) ? undefined : values.reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}

/**
 * @typedef {object} PhaseCpu
 * @property {number} wallSeconds
 * @property {number | undefined} machineCores  average cores busy on the whole machine
 * @property {number | undefined} ownCores  of which this benchmark's processes (itself, its reaped children, `pids`)
 * @property {number | undefined} otherCores  the rest: other work on the machine
 * @property {number | undefined} iowaitCores  average cores idle while waiting for the disk
 * @property {number | undefined} stealCores  average cores the hypervisor gave to other guests
 */

/**
 * Starts measuring now; `stop()` returns the phase's CPU picture.
 * @param {number} ticksPerSecond
 * @param {number[]} [pids]  the benchmark's running child processes to count as its own (hub, tentacles)
 */
export function startPhaseMeter(ticksPerSecond, pids = []) {
  const startedAt = performance.now();
  const machine = readMachineTicks();
  const own = readOwnTicks();
  const children = pids.map(readCpuTicks);
  return {
    /** @returns {PhaseCpu} */
    stop() {
      const wallSeconds = (performance.now() - startedAt) / 1000;
      const machineEnd = readMachineTicks();
      const ownEnd = readOwnTicks();
      const childrenEnd = pids.map(readCpuTicks);
      const cores = (/** @type {number} */ ticks) => ticks / ticksPerSecond / wallSeconds;
      // a child that has exited and been waited for meanwhile is in `own` (cutime) with its whole life
      let childTicks = 0;
      children.forEach((start, i) => {
        const end = childrenEnd[i];
        childTicks += end === undefined ? -(start ?? 0) : end - (start ?? 0);
      });
      const machineCores = machine && machineEnd ? cores(machineEnd.busy - machine.busy) : undefined;
      const ownCores = own !== undefined && ownEnd !== undefined ? cores(ownEnd - own + childTicks) : undefined;
      return {
        wallSeconds,
        machineCores,
        ownCores,
        otherCores: machineCores !== undefined && ownCores !== undefined ? Math.max(0, machineCores - ownCores) : undefined,
        iowaitCores: machine && machineEnd ? cores(machineEnd.iowait - machine.iowait) : undefined,
        stealCores: machine && machineEnd ? cores(machineEnd.steal - machine.steal) : undefined,
      };
    },
  };
}
