// The swarm benchmark's report: a readable table on stdout, then one JSON line.
import { MiB, round } from './units.mjs';

/**
 * @typedef {import('./swarm-workers.mjs').WorkerStatus} WorkerStatus
 * @typedef {{ seconds: number | undefined, count: number, workersSeconds: number | undefined, workers: WorkerStatus, pollMs: number }} OnlineWait
 */

/**
 * @param {object} r
 * @param {{ tentacles: number, workers: number, idleSeconds: number, downSeconds: number }} r.options
 * @param {{ soft: number | undefined, hard: number | undefined, shellSoft: number | undefined, needHub: number, needWorker: number }} r.fds
 * @param {{ hubRssMiB: number, idleCpuPercent: number, reconnectSeconds: number }} r.targets
 * @param {number} r.registerSeconds
 * @param {number | undefined} r.rssBeforeConnect
 * @param {OnlineWait} r.connect
 * @param {WorkerStatus} r.connectWorkers
 * @param {{ hub: number | undefined, workers: number }} r.connectCpuSeconds
 * @param {number | undefined} r.workersStartedSeconds
 * @param {number | undefined} r.rssBytes
 * @param {number | undefined} r.hubFds
 * @param {{ wallSeconds: number, cpuSeconds: number | undefined, percent: number | undefined }} r.cpu
 * @param {WorkerStatus} r.idleBefore
 * @param {WorkerStatus} r.idleAfter
 * @param {number | undefined} r.onlineAfterIdle
 * @param {{ exitMs: number, code: number | null, signal: string | null, killed: boolean }} r.term
 * @param {number} r.startupSeconds
 * @param {number} r.sinceTermSeconds
 * @param {OnlineWait} r.reconnect
 * @param {WorkerStatus} r.beforeRestart
 * @param {WorkerStatus} r.atReady  the workers' counts when the new hub's ready line arrived
 * @param {WorkerStatus} r.afterRestart
 * @param {number | undefined} r.rssAfterRestart
 * @param {number} r.newHubCpuSeconds
 * @param {Array<Record<string, number>>} r.warnings  the hub's warnings by message: first hub, restarted hub
 * @param {number} r.cpuCount
 * @param {{ connect: number | undefined, reconnect: number | undefined }} r.listenOverflows  kernel TcpExt ListenOverflows during each phase
 */
export function printSwarmReport(r) {
  const N = r.options.tentacles;
  const { targets } = r;
  const hubRssMiB = r.rssBytes === undefined ? undefined : r.rssBytes / MiB;
  const rssMet = hubRssMiB !== undefined && hubRssMiB <= targets.hubRssMiB;
  const cpuMet = r.cpu.percent !== undefined && r.cpu.percent <= targets.idleCpuPercent;
  const reconnectMet = r.reconnect.seconds !== undefined && r.reconnect.seconds <= targets.reconnectSeconds;
  const connected = r.connect.seconds !== undefined;
  const mark = (/** @type {boolean} */ met) => (met ? 'MET' : 'MISSED');
  const s = (/** @type {number | undefined} */ seconds) => (seconds === undefined ? 'n/a' : `${seconds.toFixed(2)} s`);
  const idleDrops = r.idleAfter.drops - r.idleBefore.drops;
  const idleFails = r.idleAfter.failedConnects - r.idleBefore.failedConnects;
  const restartFails = r.afterRestart.failedConnects - r.beforeRestart.failedConnects;
  const waitLine = (/** @type {OnlineWait} */ wait) =>
    wait.seconds === undefined
      ? `NOT all online: the hub counted ${wait.count}/${N} when the benchmark gave up (workers: ${wait.workers.online} online)`
      : `all ${N} online at the hub after ${s(wait.seconds)} (workers' own count: ${wait.workersSeconds === undefined ? `${wait.workers.online}, not ${N}` : `${N} at ${s(wait.workersSeconds)}`})`;

  const overflowLine = (/** @type {number | undefined} */ count) =>
    `                   kernel listen-queue overflows meanwhile: ${count ?? 'n/a'} (TcpExt ListenOverflows, whole machine; dropped SYNs are retried after 1, 3, 7 s)`;
  const lines = [
    '',
    `Swarm benchmark: ${N} tentacles in ${r.options.workers} worker process(es), one hub, loopback, ${r.cpuCount} CPU(s)`,
    `  open-file limit  soft ${r.fds.soft ?? '?'} (ulimit -n in a shell started by the bench: ${r.fds.shellSoft ?? '?'}), hard ${r.fds.hard ?? '?'}; ` +
      `needed about ${r.fds.needHub} by the hub, ${r.fds.needWorker} per worker`,
    '',
    `  registration     ${N} machines in ${s(r.registerSeconds)} (tentacle's postRegistration, 20 at a time; not a target)`,
    `  connect          ${waitLine(r.connect)}, measured from spawning the workers; ${r.connectWorkers.failedConnects} failed attempts, ${r.connectWorkers.drops} drops`,
    `                   the workers had started all connections after ${s(r.workersStartedSeconds)} (node start-up, imports, keys); CPU until all online: ` +
      `hub ${s(r.connectCpuSeconds.hub)}${r.connectCpuSeconds.hub === undefined ? '' : ` (${((r.connectCpuSeconds.hub * 1000) / N).toFixed(1)} ms per tentacle, with the 4/s online polls)`}, workers ${s(r.connectCpuSeconds.workers)}; one online poll took ${r.connect.pollMs.toFixed(0)} ms (median)`,
    overflowLine(r.listenOverflows.connect),
    `  hub RSS          ${hubRssMiB === undefined ? 'n/a (no /proc)' : `${hubRssMiB.toFixed(1)} MiB`} ${connected ? 'with all connected, 5 s after the last came online' : 'NOT all connected: 5 s after the benchmark gave up waiting'} ` +
      `(${r.hubFds ?? '?'} open fds)   target <= ${targets.hubRssMiB} MiB: ${mark(rssMet)}`,
    `                   before the workers started (after the registrations): ${r.rssBeforeConnect === undefined ? 'n/a' : `${(r.rssBeforeConnect / MiB).toFixed(1)} MiB`}`,
    `  hub idle CPU     ${r.cpu.percent === undefined ? 'n/a' : `${r.cpu.percent.toFixed(2)} %`} of one core: ${r.cpu.cpuSeconds?.toFixed(2) ?? '?'} s CPU in ${r.cpu.wallSeconds.toFixed(1)} s ` +
      `(heartbeat every 20 s both ways${connected ? '' : '; tentacles were still connecting: not an idle measurement'})   target <= ${targets.idleCpuPercent} %: ${mark(cpuMet)}`,
    `                   during the window: ${idleDrops} drops, ${idleFails} failed attempts; hub counted ${r.onlineAfterIdle ?? '?'} online after it`,
    `  restart          old hub exited ${s(r.term.exitMs / 1000)} after SIGTERM (${r.term.killed ? 'SIGKILLed after 30 s' : `code ${r.term.code ?? r.term.signal}`}); ` +
      `${r.options.downSeconds > 0 ? `kept down ${r.options.downSeconds} s; ` : ''}new hub ready ${s(r.startupSeconds)} after spawn, ${s(r.sinceTermSeconds)} after SIGTERM`,
    `  reconnect        ${waitLine(r.reconnect)}, measured from the new ready line   target <= ${targets.reconnectSeconds} s: ${mark(reconnectMet)}`,
    `                   ${r.reconnect.seconds === undefined ? '' : `${s(r.sinceTermSeconds + r.reconnect.seconds)} from SIGTERM to all online; `}` +
      `at the ready line the workers had ${r.atReady.online} online, ${r.atReady.connecting} connecting, ${r.atReady.waiting} waiting in backoff`,
    `                   ${restartFails} failed connect attempts from SIGTERM to all online (${(restartFails / N).toFixed(2)} per tentacle); ` +
      `new hub: RSS ${r.rssAfterRestart === undefined ? 'n/a' : `${(r.rssAfterRestart / MiB).toFixed(1)} MiB`} right after, ${s(r.newHubCpuSeconds)} CPU from spawn`,
    overflowLine(r.listenOverflows.reconnect),
    ...reasonLines('why connections closed or attempts failed from SIGTERM on', r.beforeRestart.reasons, r.afterRestart.reasons),
    ...r.warnings.flatMap((counts, index) => reasonLines(`${index === 0 ? 'first hub' : 'restarted hub'} logged (warn and above)`, {}, counts)),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const result = {
    bench: 'swarm',
    tentacles: N,
    workers: r.options.workers,
    connectSeconds: r.connect.seconds === undefined ? null : round(r.connect.seconds),
    hubRssMiB: hubRssMiB === undefined ? null : round(hubRssMiB, 1),
    idleCpuPercent: r.cpu.percent === undefined ? null : round(r.cpu.percent),
    reconnectSeconds: r.reconnect.seconds === undefined ? null : round(r.reconnect.seconds),
    idleSeconds: round(r.cpu.wallSeconds, 1),
    registerSeconds: round(r.registerSeconds),
    hubShutdownSeconds: round(r.term.exitMs / 1000),
    hubDownSeconds: round(r.sinceTermSeconds),
    reconnectFailedAttempts: restartFails,
    targets,
    pass: connected && rssMet && cpuMet && reconnectMet,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * The reasons counted between two worker snapshots, most frequent first.
 * @param {string} title @param {Record<string, number>} before @param {Record<string, number>} after
 */
function reasonLines(title, before, after) {
  const delta = Object.entries(after)
    .map(([reason, count]) => /** @type {[string, number]} */ ([reason, count - (before[reason] ?? 0)]))
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6);
  if (delta.length === 0) return [];
  return [`                   ${title}:`, ...delta.map(([reason, count]) => `                     ${String(count).padStart(6)}  ${reason}`)];
}
