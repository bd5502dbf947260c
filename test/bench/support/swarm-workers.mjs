// The worker processes of the swarm benchmark: spawn them with their job files, follow their
// status lines, add up their counts, and stop them (a `stop` line first, then by PID).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnNode } from './processes.mjs';

export const WORKER_SCRIPT = path.join(import.meta.dirname, '..', 'swarm-worker.mjs');
/** A worker gets this long to stop its connections after the `stop` line, before SIGTERM. */
const WORKER_STOP_MS = 8_000;

/**
 * @typedef {object} WorkerStatus
 * @property {number} total
 * @property {number} online
 * @property {number} connecting
 * @property {number} waiting
 * @property {number} failedConnects
 * @property {number} drops
 * @property {Record<string, number>} reasons
 */

/**
 * Writes one job file per worker (machines split into contiguous shares), spawns
 * `node swarm-worker.mjs <jobfile>` for each, and returns the pool.
 * @param {import('./processes.mjs').Scope} scope
 * @param {{ dir: string, workers: number, hubUrl: string, certPem: string, fingerprint: string, version: string, machines: import('./swarm-hub.mjs').SwarmMachine[] }} options
 */
export async function spawnWorkers(scope, { dir, workers, hubUrl, certPem, fingerprint, version, machines }) {
  const jobFiles = [];
  const share = Math.ceil(machines.length / workers);
  for (let worker = 0; worker < workers; worker += 1) {
    const file = path.join(dir, `swarm-job-${worker + 1}.json`);
    const slice = machines.slice(worker * share, (worker + 1) * share);
    await writeFile(file, JSON.stringify({ worker: worker + 1, hubUrl, certPem, fingerprint, homeDir: dir, version, machines: slice }), { mode: 0o600 });
    jobFiles.push({ file, count: slice.length });
  }
  return new WorkerPool(scope, jobFiles.filter((job) => job.count > 0));
}

export class WorkerPool {
  /** @type {import('./processes.mjs').Child[]} */
  children = [];
  /** @type {Map<number, WorkerStatus>} latest status line per worker */
  statuses = new Map();
  /** performance.now() when the workers' own online count first reached `target` (see watchTarget) */
  /** @type {number | undefined} */
  allOnlineAt;
  target = Infinity;
  /** performance.now() when the last worker said `started` (its connections were created and started) */
  /** @type {number | undefined} */
  allStartedAt;
  #started = 0;

  /** @param {import('./processes.mjs').Scope} scope @param {Array<{ file: string, count: number }>} jobs */
  constructor(scope, jobs) {
    this.startedAt = performance.now();
    for (const [index, job] of jobs.entries()) {
      const child = spawnNode(scope, [WORKER_SCRIPT, job.file], { stdin: 'pipe' });
      child.process.stdin?.on('error', () => undefined); // EPIPE from a worker that has gone
      child.onLine((line) => this.#onLine(index + 1, line));
      this.children.push(child);
      // registered after spawnNode's own stop, so it runs first: a clean stop, then SIGTERM if needed
      scope.defer(() => stopWorker(child));
    }
  }

  /** @param {number} worker @param {string} line */
  #onLine(worker, line) {
    let parsed;
    try {
      parsed = JSON.parse(line);
    } catch {
      return;
    }
    if (parsed?.event === 'started' && ++this.#started === this.children.length) this.allStartedAt = performance.now();
    if (parsed?.event !== 'status') return;
    this.statuses.set(worker, parsed);
    if (this.allOnlineAt === undefined && this.sum().online >= this.target) this.allOnlineAt = performance.now();
  }

  /** Sets the count at which `allOnlineAt` is taken, and forgets an earlier one. @param {number} target */
  watchTarget(target) {
    this.target = target;
    this.allOnlineAt = this.sum().online >= target ? performance.now() : undefined;
  }

  /** The workers' counts added up. @returns {WorkerStatus} */
  sum() {
    /** @type {WorkerStatus} */
    const total = { total: 0, online: 0, connecting: 0, waiting: 0, failedConnects: 0, drops: 0, reasons: {} };
    for (const status of this.statuses.values()) {
      for (const key of /** @type {const} */ (['total', 'online', 'connecting', 'waiting', 'failedConnects', 'drops'])) total[key] += status[key] ?? 0;
      for (const [reason, count] of Object.entries(status.reasons ?? {})) total.reasons[reason] = (total.reasons[reason] ?? 0) + count;
    }
    return total;
  }

  /** CPU seconds all workers have used since they started. @param {(pid: number) => number | undefined} readTicks @param {number} ticksPerSecond */
  cpuSeconds(readTicks, ticksPerSecond) {
    return this.children.reduce((sum, child) => sum + (readTicks(child.pid) ?? 0), 0) / ticksPerSecond;
  }

  /** A worker that has exited, if any (with its stderr for the error message). */
  exitedWorker() {
    return this.children.find((child) => child.process.exitCode !== null || child.process.signalCode !== null);
  }
}

/** @param {import('./processes.mjs').Child} child */
async function stopWorker(child) {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.stdin?.end('stop\n');
  let timer;
  await Promise.race([child.exited, new Promise((resolve) => (timer = setTimeout(resolve, WORKER_STOP_MS)))]);
  clearTimeout(timer);
}
