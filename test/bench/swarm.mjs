// Swarm benchmark: N real tentacle connections (tentacle/dist, many per worker process) against
// one real hub on this machine. Measures the time until the hub reports all online, the hub's RSS
// and idle CPU with all connected, and, after a hub restart on the same data folder and ports,
// the time until all are back. Everything runs on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HUB_BIN, REPO_ROOT, UsageError } from './support/processes.mjs';
import { clockTicksPerSecond, countOpenFds, readCpuTicks, readListenOverflows, readOpenFileLimit, shellOpenFileLimit, startCpuMeter } from './support/proc-stats.mjs';
import { readRss } from './support/rss.mjs';
import { median } from './support/units.mjs';
import { printSwarmReport } from './support/swarm-report.mjs';
import { HubApi, TENTACLE_LIB, hasExited, hubWarnings, registerMachines, startHub, terminateHub } from './support/swarm-hub.mjs';
import { spawnWorkers } from './support/swarm-workers.mjs';

/** Pass marks (issue 3). */
export const TARGETS = { hubRssMiB: 256, idleCpuPercent: 5, reconnectSeconds: 60 };
const DEFAULTS = { tentacles: 1000, workers: 4, idleSeconds: 30, downSeconds: 0, timeoutSeconds: 180 };
/** Hub and tentacles ping every PROTOCOL_LIMITS.heartbeatIntervalMs; the idle window must hold one round. */
const HEARTBEAT_SECONDS = 20;
const SETTLE_MS = 5_000;
const POLL_MS = 250;
/** After the hub counts all online, wait at most this long for the workers' own count to say so too. */
const WORKER_CATCH_UP_MS = 3_000;
const REGISTER_CONCURRENCY = 20;
/** File descriptors a process needs besides its sockets to tentacles (database, listeners, pipes, libuv). */
const FD_MARGIN = 128;
const ENVIRONMENT = 'Swarm';

export const usage = `swarm [--tentacles N] [--workers N] [--idle-seconds S] [--down-seconds S] [--timeout S] [--keep]
  --tentacles N     simulated tentacles, real connection code (default ${DEFAULTS.tentacles})
  --workers N       worker processes that share the tentacles (default ${DEFAULTS.workers})
  --idle-seconds S  window for the hub's idle CPU, at least ${HEARTBEAT_SECONDS} (one heartbeat round; default ${DEFAULTS.idleSeconds})
  --down-seconds S  keep the hub down this long between its exit and the restart, like a slow upgrade (default 0)
  --timeout S       give up waiting for all online (first connect, and after the restart) after S seconds (default ${DEFAULTS.timeoutSeconds})
  --keep            keep the temporary folder (hub data, job files) and print its path`;

/** @param {string[]} args */
function parseOptions(args) {
  let values;
  try {
    const text = /** @type {const} */ ({ type: 'string' });
    const options = { tentacles: text, workers: text, 'idle-seconds': text, 'down-seconds': text, timeout: text, keep: /** @type {const} */ ({ type: 'boolean' }) };
    ({ values } = parseArgs({ args, strict: true, allowPositionals: false, options }));
  } catch (error) {
    throw new UsageError(/** @type {Error} */ (error).message);
  }
  /** @param {string} name @param {unknown} raw @param {number} fallback @param {number} min @param {number} max */
  const integer = (name, raw, fallback, min, max) => {
    const value = Number(raw ?? fallback);
    if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name}: "${raw}" is not a whole number from ${min} to ${max}`);
    return value;
  };
  const tentacles = integer('tentacles', values.tentacles, DEFAULTS.tentacles, 1, 20_000);
  return {
    tentacles,
    workers: Math.min(tentacles, integer('workers', values.workers, DEFAULTS.workers, 1, 64)),
    idleSeconds: integer('idle-seconds', values['idle-seconds'], DEFAULTS.idleSeconds, HEARTBEAT_SECONDS, 3600),
    downSeconds: integer('down-seconds', values['down-seconds'], DEFAULTS.downSeconds, 0, 600),
    timeoutSeconds: integer('timeout', values.timeout, DEFAULTS.timeoutSeconds, 10, 3600),
    keep: values.keep === true,
  };
}

/** @param {string} message */
const progress = (message) => process.stderr.write(`[swarm] ${message}\n`);

/**
 * @param {string[]} args
 * @param {import('./support/processes.mjs').Scope} scope
 * @returns {Promise<number>}
 */
export async function run(args, scope) {
  const options = parseOptions(args);
  const N = options.tentacles;
  for (const file of [HUB_BIN, fileURLToPath(TENTACLE_LIB)]) {
    if (!existsSync(file)) throw new Error(`${path.relative(process.cwd(), file)} is missing: build first (npm run build)`);
  }
  const fds = await checkOpenFileLimit(options);
  const ticksPerSecond = await clockTicksPerSecond();
  const tmp = await mkdtemp(path.join(tmpdir(), 'cuttle-bench-swarm-'));
  scope.defer(async () => {
    if (options.keep) progress(`kept ${tmp}`);
    else await rm(tmp, { recursive: true, force: true });
  });

  const apiKey = randomBytes(30).toString('base64url'); // 40 characters
  const dataDir = path.join(tmp, 'data');
  let { hub, ready } = await startHub(scope, { dataDir, apiKey });
  const ports = { port: ready.port, tentaclePort: ready.tentaclePort };
  progress(`hub pid ${hub.pid}: API port ${ready.port}, tentacle port ${ready.tentaclePort}, open-file limit ${readOpenFileLimit(hub.pid)?.soft ?? 'unknown'}`);
  const api = new HubApi(ready.port, apiKey);
  await api.createEnvironment(ENVIRONMENT);
  const certPem = await readFile(path.join(dataDir, 'tls', 'hub-cert.pem'), 'utf8');
  const hubUrl = `wss://127.0.0.1:${ready.tentaclePort}`;

  let started = performance.now();
  const machines = await registerMachines({
    hubUrl, certPem, fingerprint: ready.fingerprint, apiKey, count: N, environment: ENVIRONMENT, concurrency: REGISTER_CONCURRENCY,
    onProgress: (done) => done % 250 === 0 && done < N && progress(`registered ${done}/${N}`),
  });
  const registerSeconds = (performance.now() - started) / 1000;
  progress(`registered ${N} machines in ${registerSeconds.toFixed(1)} s; starting ${options.workers} worker(s)`);

  const version = JSON.parse(readFileSync(path.join(REPO_ROOT, 'tentacle/package.json'), 'utf8')).version;
  const rssBeforeConnect = readRss(hub.pid);
  const connectCpu = startCpuMeter(hub.pid, ticksPerSecond);
  const overflows = [readListenOverflows()];
  const pool = await spawnWorkers(scope, { dir: tmp, workers: options.workers, hubUrl, certPem, fingerprint: ready.fingerprint, version, machines });
  pool.watchTarget(N);
  const watch = { api, pool, target: N, timeoutMs: options.timeoutSeconds * 1000 };
  const connect = await waitForAllOnline({ ...watch, hub, since: pool.startedAt, label: 'connect' });
  const connectWorkers = pool.sum();
  overflows.push(readListenOverflows());
  const connectCpuSeconds = { hub: connectCpu.stop().cpuSeconds, workers: pool.cpuSeconds(readCpuTicks, ticksPerSecond) };
  const workersStartedSeconds = pool.allStartedAt === undefined ? undefined : (pool.allStartedAt - pool.startedAt) / 1000;

  await sleep(SETTLE_MS);
  const rssBytes = readRss(hub.pid);
  const hubFds = countOpenFds(hub.pid);
  progress(`hub RSS ${rssBytes === undefined ? 'n/a' : `${(rssBytes / 2 ** 20).toFixed(1)} MiB`}, ${hubFds ?? '?'} open fds; measuring idle CPU for ${options.idleSeconds} s`);
  const idleBefore = pool.sum();
  const meter = startCpuMeter(hub.pid, ticksPerSecond);
  await sleep(options.idleSeconds * 1000);
  const cpu = meter.stop();
  const idleAfter = pool.sum();
  const onlineAfterIdle = await api.countOnline();

  progress(`restarting the hub (SIGTERM to pid ${hub.pid})`);
  const beforeRestart = pool.sum();
  overflows.push(readListenOverflows());
  const termAt = performance.now();
  const term = await terminateHub(hub, 30_000);
  const warnings = [hubWarnings(hub.stderr())];
  if (options.downSeconds > 0) {
    progress(`old hub exited after ${(term.exitMs / 1000).toFixed(2)} s; keeping it down for ${options.downSeconds} s`);
    await sleep(options.downSeconds * 1000);
  }
  started = performance.now();
  ({ hub, ready } = await startHub(scope, { dataDir, apiKey, ...ports }));
  const readyAt = performance.now();
  const atReady = pool.sum();
  const startupSeconds = (readyAt - started) / 1000;
  progress(`new hub pid ${hub.pid} ready ${startupSeconds.toFixed(2)} s after spawn, ${((readyAt - termAt) / 1000).toFixed(2)} s after SIGTERM`);
  pool.watchTarget(N);
  const reconnect = await waitForAllOnline({ ...watch, hub, since: readyAt, label: 'reconnect' });
  const afterRestart = pool.sum();
  overflows.push(readListenOverflows());
  const rssAfterRestart = readRss(hub.pid);
  const newHubCpuSeconds = (readCpuTicks(hub.pid) ?? NaN) / ticksPerSecond;
  warnings.push(hubWarnings(hub.stderr()));

  printSwarmReport({
    options, fds, targets: TARGETS, registerSeconds, rssBeforeConnect, connect, connectWorkers, connectCpuSeconds, workersStartedSeconds, rssBytes, hubFds,
    cpu, idleBefore, idleAfter, onlineAfterIdle, term, startupSeconds, sinceTermSeconds: (readyAt - termAt) / 1000, reconnect, beforeRestart, atReady, afterRestart,
    rssAfterRestart, newHubCpuSeconds, warnings, cpuCount: cpus().length,
    listenOverflows: { connect: difference(overflows[0], overflows[1]), reconnect: difference(overflows[2], overflows[3]) },
  });
  return 0;
}

/** @param {number | undefined} before @param {number | undefined} after */
const difference = (before, after) => (before === undefined || after === undefined ? undefined : after - before);

/**
 * Polls `GET /machines?status=online` every POLL_MS until the hub counts `target`, or gives up
 * after `timeoutMs`. Times are measured from `since`; the workers' own count is cross-checked.
 * @param {{ api: HubApi, hub: import('./support/processes.mjs').Child, pool: import('./support/swarm-workers.mjs').WorkerPool, target: number, since: number, timeoutMs: number, label: string }} options
 */
async function waitForAllOnline({ api, hub, pool, target, since, timeoutMs, label }) {
  let lastCount = 0;
  let lastProgress = performance.now();
  /** @type {number[]} */
  const pollMs = [];
  for (;;) {
    if (hasExited(hub)) throw new Error(`the hub exited (${hub.process.signalCode ?? hub.process.exitCode}) during ${label}; stderr:\n${hub.stderr()}`);
    const gone = pool.exitedWorker();
    if (gone) throw new Error(`a worker (pid ${gone.pid}) exited (${gone.process.signalCode ?? gone.process.exitCode}) during ${label}; stderr:\n${gone.stderr()}`);
    const polledAt = performance.now();
    const count = await api.countOnline();
    const now = performance.now();
    pollMs.push(now - polledAt);
    if (count !== undefined) lastCount = count;
    const workers = pool.sum();
    const workersMs = pool.allOnlineAt === undefined ? undefined : pool.allOnlineAt - since;
    if (count !== undefined && count >= target) {
      // the workers report at most every 100 ms: give their count a moment to catch up for the cross-check
      for (let waited = 0; pool.allOnlineAt === undefined && waited < WORKER_CATCH_UP_MS; waited += 50) await sleep(50);
      const workersAt = pool.allOnlineAt === undefined ? undefined : (pool.allOnlineAt - since) / 1000;
      return { seconds: (now - since) / 1000, count, workersSeconds: workersAt, workers: pool.sum(), pollMs: median(pollMs) ?? NaN };
    }
    if (now - since > timeoutMs) {
      progress(`${label}: gave up after ${timeoutMs / 1000} s with ${lastCount}/${target} online at the hub, ${workers.online} by the workers' count`);
      return { seconds: undefined, count: lastCount, workersSeconds: workersMs === undefined ? undefined : workersMs / 1000, workers, pollMs: median(pollMs) ?? NaN };
    }
    if (now - lastProgress >= 2_000) {
      lastProgress = now;
      progress(`${label} ${((now - since) / 1000).toFixed(1)} s: hub ${count ?? 'no answer'}/${target} online; workers: ${workers.online} online, ${workers.connecting} connecting, ${workers.waiting} waiting, ${workers.failedConnects} failed attempts so far`);
    }
    await sleep(Math.max(0, POLL_MS - (now - polledAt)));
  }
}

/**
 * The hub holds one socket per tentacle and each worker one per connection of its share: stop
 * early, and say so clearly, when the open-file limit (which child processes inherit) is too low.
 * @param {{ tentacles: number, workers: number }} options
 */
async function checkOpenFileLimit({ tentacles, workers }) {
  const own = readOpenFileLimit('self');
  const shell = await shellOpenFileLimit();
  const soft = own?.soft ?? shell?.soft;
  const hard = own?.hard ?? shell?.hard;
  const needHub = tentacles + FD_MARGIN;
  const needWorker = Math.ceil(tentacles / workers) + FD_MARGIN;
  const need = Math.max(needHub, needWorker);
  if (soft === undefined) {
    progress(`warning: cannot read the open-file limit; the hub needs about ${needHub} descriptors, each worker about ${needWorker}`);
  } else if (soft < need) {
    const fix = hard !== undefined && hard >= need ? `raise it in this shell first: ulimit -n ${need}` : `the hard limit is ${hard}: raise it (as root: /etc/security/limits.conf, or LimitNOFILE= for a systemd unit), then ulimit -n ${need}`;
    throw new Error(`the open-file limit is too low: ulimit -n is ${soft} (as inherited by the hub and the workers), but the hub needs about ${needHub} descriptors for ${tentacles} tentacles and each worker about ${needWorker}; ${fix}`);
  }
  return { soft, hard, shellSoft: shell?.soft, needHub, needWorker };
}
