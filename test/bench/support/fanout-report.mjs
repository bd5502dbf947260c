// The fanout benchmark's report: a readable summary on stdout, then one JSON line.
import { describeTargets } from './fanout-deploy.mjs';
import { MiB, formatBytes, median, round } from './units.mjs';

/** Floors further apart than this factor are called out: the machine's speed changed during the run. */
const FLOOR_DRIFT_WARNING = 1.25;

/**
 * @typedef {import('./fanout-deploy.mjs').DeployRun} DeployRun
 * @typedef {{ totalMs: number, eachMs: number[], concurrency: number }} Floor
 *
 * @typedef {object} FanoutResults
 * @property {{ tentacles: number, size: number, files: number, floorOnly: boolean }} options
 * @property {{ ratio: number, redeployBytes: number }} targets
 * @property {number} cpuCount
 * @property {string} zipName
 * @property {number} zipBytes
 * @property {string} sha256
 * @property {import('./fanout-tree.mjs').TreeSummary} tree
 * @property {{ treeMs: number, packMs: number, hashMs: number }} prepare
 * @property {string} unzipVersion
 * @property {Floor} floor  taken before the deployment
 * @property {Floor | undefined} [floorAfter]  taken right after it, when it succeeded
 * @property {Record<string, import('./machine-cpu.mjs').PhaseCpu>} cpu  how busy the machine was in each timed phase
 * @property {{ totalMs: number, eachMs: number[] } | undefined} [transfer]
 * @property {{ onlineMs: number, pushMs: number, release: string } | undefined} [setup]
 * @property {DeployRun | undefined} [deploy]
 * @property {{ ok: number, problems: string[], firstFiles: number | undefined } | undefined} [installs]
 * @property {DeployRun | undefined} [redeploy]
 * @property {{ deployment?: string[], redeploy?: string[] } | undefined} [excerpts]  the first tentacle's task-log lines
 * @property {string | undefined} [failure]  why the run stopped early
 * @property {string[] | undefined} [notes]  what went wrong after the deployment was measured (an untimed or reference phase)
 */

const s = (/** @type {number | undefined} */ ms) => (ms === undefined || Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
const mib = (/** @type {number | undefined} */ bytes) => (bytes === undefined ? 'n/a' : `${(bytes / MiB).toFixed(1)} MiB`);
const cpu = (/** @type {number | undefined} */ seconds) => (seconds === undefined ? 'n/a' : `${seconds.toFixed(1)} s`);
const mark = (/** @type {boolean} */ met) => (met ? 'MET' : 'MISSED');
const spreadOf = (/** @type {number[]} */ values) =>
  values.length === 0 ? 'n/a' : `min ${s(Math.min(...values))}, median ${s(median(values))}, max ${s(Math.max(...values))}`;

/**
 * Evaluates the targets, prints the report and returns whether the run passed.
 * @param {FanoutResults} r
 */
export function printFanoutReport(r) {
  const N = r.options.tentacles;
  const { tree } = r;
  const deployed = r.deploy?.state === 'success';
  const redeployed = r.redeploy?.state === 'success';
  // the floor the deployment is held against: the mean of the floors before and after it
  const floorMs = r.floorAfter ? (r.floor.totalMs + r.floorAfter.totalMs) / 2 : r.floor.totalMs;
  const ratio = deployed && r.deploy ? r.deploy.ms / floorMs : undefined;
  const ratioMet = ratio !== undefined && ratio <= r.targets.ratio;
  const redeployMet = redeployed && r.redeploy?.bytesSent === r.targets.redeployBytes;
  const installsMet = r.installs !== undefined && r.installs.ok === N;
  const pass = !r.options.floorOnly && r.failure === undefined && deployed && ratioMet && redeployed && redeployMet && installsMet;

  const lines = [
    '',
    `Fanout benchmark: ${r.zipName}, ${formatBytes(r.zipBytes)}, to ${N} tentacle process(es) on this machine (${r.cpuCount} CPU(s)), loopback`,
    `  package        ${formatBytes(tree.bytes)} in ${tree.files} files: ${tree.kinds.small.files} small text (${formatBytes(tree.kinds.small.bytes)}), ` +
      `${tree.kinds.medium.files} medium, half text, half media (${formatBytes(tree.kinds.medium.bytes)}), ${tree.kinds.large.files} large ${tree.kinds.large.files === 1 ? 'binary' : 'binaries'} (${formatBytes(tree.kinds.large.bytes)})`,
    `                 tree written in ${s(r.prepare.treeMs)}, zipped by \`cuttle pack\` in ${s(r.prepare.packMs)}; SHA-256 ${r.sha256.slice(0, 16)}... (hashing the zip once took ${s(r.prepare.hashMs)})`,
    `  floor          \`unzip -q\` into ${N} fresh folders, ${r.floor.concurrency} at a time${r.floorAfter ? ', before the deployment' : ''}: ${s(r.floor.totalMs)} (each extraction: ${spreadOf(r.floor.eachMs)}; ${r.unzipVersion})`,
  ];
  if (r.floorAfter) {
    const drift = r.floorAfter.totalMs / r.floor.totalMs;
    lines.push(
      `                 the same right after the deployment: ${s(r.floorAfter.totalMs)} (each: ${spreadOf(r.floorAfter.eachMs)}); the deployment is held against their mean, ${s(floorMs)}`,
    );
    if (drift > FLOOR_DRIFT_WARNING || drift < 1 / FLOOR_DRIFT_WARNING) {
      lines.push(
        `                 NOTE: the floors differ by a factor of ${Math.max(drift, 1 / drift).toFixed(2)}: the machine ${drift > 1 ? 'slowed down' : 'sped up'} during the run` +
          `${drift > 1 ? ' (on a virtual machine, memory that its host has taken back costs more to touch the first time)' : ''}; the ratio is against their mean, ${s(floorMs)}`,
      );
    }
  }
  if (r.transfer) {
    lines.push(
      `  + transfer     not in the floor: the zip sent to ${N} receiver processes at once over TLS websockets (256 KiB messages), each writing and hashing it: ` +
        `${s(r.transfer.totalMs)} (${formatBytes(r.zipBytes * N)}, ${((r.zipBytes * N) / MiB / (r.transfer.totalMs / 1000)).toFixed(0)} MiB/s)`,
      `                 floor + transfer: ${s(floorMs + r.transfer.totalMs)} (a reference only, measured last; the target is against the floor)`,
    );
  }
  if (r.setup) {
    lines.push(`  setup          ${N} tentacles registered and online in ${s(r.setup.onlineMs)}; \`cuttle push\` took ${s(r.setup.pushMs)}; release ${r.setup.release}`);
  }
  if (r.deploy) lines.push(...deployLines('deployment', r.deploy, r, N));
  if (ratio !== undefined) {
    const withTransfer = r.transfer && r.deploy ? ` (against floor + transfer: ${(r.deploy.ms / (floorMs + r.transfer.totalMs)).toFixed(2)})` : '';
    lines.push(`                 ratio deployment / floor ${ratio.toFixed(2)}   target <= ${r.targets.ratio}: ${mark(ratioMet)}${withTransfer}`);
    if (r.floorAfter && r.deploy) {
      lines.push(`                 against each floor alone: ${(r.deploy.ms / r.floor.totalMs).toFixed(2)} (before), ${(r.deploy.ms / r.floorAfter.totalMs).toFixed(2)} (after)`);
    }
  }
  const cpuOf = (/** @type {import('./machine-cpu.mjs').PhaseCpu | undefined} */ p) => (p?.ownCores === undefined ? undefined : p.ownCores * p.wallSeconds);
  const deployCpu = cpuOf(r.cpu.deployment);
  const floorCpus = [cpuOf(r.cpu.floor), ...(r.floorAfter ? [cpuOf(r.cpu['floor-after'])] : [])];
  const floorCpu = floorCpus.some((value) => value === undefined) ? undefined : floorCpus.reduce((sum, value) => sum + /** @type {number} */ (value), 0) / floorCpus.length;
  if (deployed && deployCpu !== undefined && floorCpu !== undefined) {
    lines.push(`                 CPU time deployment / floor ${(deployCpu / floorCpu).toFixed(2)} (${deployCpu.toFixed(1)} s / ${floorCpu.toFixed(1)} s of this benchmark's processes${floorCpus.length > 1 ? ', the floor\'s the mean of both' : ''}; less sensitive to other work on the machine; not a target)`);
  }
  if (r.installs) {
    lines.push(
      `                 on disk: ${r.installs.ok}/${N} tentacles have \`current\` on ${r.setup?.release} with Deploy.sh's marker` +
        `${r.installs.firstFiles === undefined ? '' : `; the first one's release folder holds ${r.installs.firstFiles} files (the package has ${tree.files}, plus the marker)`}`,
      ...r.installs.problems.slice(0, 10).map((problem) => `                   ${problem}`),
    );
  }
  if (r.redeploy) {
    lines.push(...deployLines('redeploy', r.redeploy, r, N));
    lines.push(`                 bytes sent on the redeploy: ${r.redeploy.bytesSent}   target ${r.targets.redeployBytes} (the package cache): ${mark(redeployMet)}`);
  }
  for (const [phase, excerpt] of Object.entries(r.excerpts ?? {})) {
    if (excerpt.length > 0) lines.push(`  ${phase} log of the first tentacle:`, ...excerpt.map((line) => `    ${line}`));
  }
  const phases = Object.entries(r.cpu);
  if (phases.length > 0) {
    const c = (/** @type {number | undefined} */ cores) => (cores === undefined ? 'n/a' : cores.toFixed(2));
    lines.push(
      `  machine CPU    average cores busy in each timed phase (of ${r.cpuCount}): all work, this benchmark's processes, other work on the machine (which skews the ratio); disk wait`,
      ...phases.map(([phase, p]) =>
        `    ${phase.padEnd(11)} all ${c(p.machineCores)}, ours ${c(p.ownCores)}${p.ownCores === undefined ? '' : ` (${(p.ownCores * p.wallSeconds).toFixed(1)} s CPU)`}, other ${c(p.otherCores)}; iowait ${c(p.iowaitCores)}${p.stealCores ? `, steal ${c(p.stealCores)}` : ''} (over ${p.wallSeconds.toFixed(1)} s)`),
    );
  }
  for (const note of r.notes ?? []) lines.push(`  NOTE           ${note}`);
  if (r.failure) lines.push(`  STOPPED        ${r.failure}`);
  lines.push(
    r.options.floorOnly ? '  result         floor only (--floor-only): no target evaluated' : `  result         ${pass ? 'PASS' : 'FAIL'}`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);

  const result = {
    bench: 'fanout',
    tentacles: N,
    zipBytes: r.zipBytes,
    payloadBytes: tree.bytes,
    files: tree.files,
    floorSeconds: round(r.floor.totalMs / 1000),
    floorAfterSeconds: r.floorAfter ? round(r.floorAfter.totalMs / 1000) : null,
    floorMeanSeconds: round(floorMs / 1000),
    transferSeconds: r.transfer ? round(r.transfer.totalMs / 1000) : null,
    deploySeconds: r.deploy && deployed ? round(r.deploy.ms / 1000) : null,
    ratio: ratio === undefined ? null : round(ratio, 3),
    ratioBefore: deployed && r.deploy ? round(r.deploy.ms / r.floor.totalMs, 3) : null,
    ratioAfter: deployed && r.deploy && r.floorAfter ? round(r.deploy.ms / r.floorAfter.totalMs, 3) : null,
    cpuRatio: deployed && deployCpu !== undefined && floorCpu !== undefined ? round(deployCpu / floorCpu, 3) : null,
    bytesSent: r.deploy?.bytesSent ?? null,
    redeploySeconds: r.redeploy && redeployed ? round(r.redeploy.ms / 1000) : null,
    redeployBytesSent: r.redeploy?.bytesSent ?? null,
    hubPeakRssMiB: r.deploy?.peakRss.hub === undefined ? null : round(r.deploy.peakRss.hub / MiB, 1),
    tentaclePeakRssMiB: r.deploy?.peakRss.tentacleMax === undefined ? null : round(r.deploy.peakRss.tentacleMax / MiB, 1),
    targets: r.targets,
    pass: r.options.floorOnly ? null : pass,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return pass;
}

/**
 * @param {string} title @param {DeployRun} run @param {FanoutResults} r @param {number} N
 */
function deployLines(title, run, r, N) {
  const states = Object.entries(
    run.targets.reduce((counts, t) => ({ ...counts, [t.state]: (counts[t.state] ?? 0) + 1 }), /** @type {Record<string, number>} */ ({})),
  )
    .map(([state, count]) => `${count} ${state}`)
    .join(', ');
  const durations = run.targets
    .filter((t) => t.startedAt && t.finishedAt)
    .map((t) => Date.parse(/** @type {string} */ (t.finishedAt)) - Date.parse(/** @type {string} */ (t.startedAt)));
  const lines = [
    `  ${title.padEnd(13)}  task ${run.taskId} ${run.state.toUpperCase()} ${s(run.ms)} after the POST (polled every 100 ms; ` +
      `queued ${s(run.queuedMs)} by the hub's clock)${run.error ? `: ${run.error}` : ''}`,
    `                 targets: ${states || 'none'}; each from its start to its end: ${spreadOf(durations)}`,
    `                 bytes sent ${formatBytes(run.bytesSent)} (${run.bytesSent} B = ${(run.bytesSent / r.zipBytes).toFixed(2)} x the zip; a first deployment sends ${N} x)`,
    `                 peak RSS: hub ${mib(run.peakRss.hub)}, tentacles ${mib(run.peakRss.tentacleMax)} at most (${mib(run.peakRss.tentacleSum)} together); ` +
      `CPU: hub ${cpu(run.cpuSeconds.hub)}, tentacles ${cpu(run.cpuSeconds.tentacles)} together${run.cpuSeconds.tentacles === undefined ? '' : ` (${cpu(run.cpuSeconds.tentacles / N)} each)`}`,
  ];
  if (run.state !== 'success') lines.push(describeTargets(run.targets).replace(/^ {2}/gm, '                   '));
  return lines;
}
