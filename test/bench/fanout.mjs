// Fanout benchmark: a realistic package (about 200 MiB in about 10,000 files, built from a seed)
// deployed by the real hub to N real tentacle processes on this machine, against a floor taken in
// the same run: the same zip extracted with `unzip -q` into N folders, two at a time, once right
// before the deployment and once right after it; the ratio is against their mean, so that a
// machine whose speed drifts during the run (memory its host has taken back, a busier neighbour)
// weighs on both sides alike. Then the same release is deployed again: the tentacles' package
// cache must make it send zero bytes.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat, statfs } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startFanoutHub, startTentacles, TENTACLE_BIN, waitAllOnline } from './support/fanout-cluster.mjs';
import { createProjectRelease, deployAndWait, pushPackage, tail, taskLog, verifyInstalls } from './support/fanout-deploy.mjs';
import { measureFloor, requireUnzip } from './support/fanout-floor.mjs';
import { printFanoutReport } from './support/fanout-report.mjs';
import { measureTransfer } from './support/fanout-transfer.mjs';
import { DEPLOY_MARKER, writeFanoutTree } from './support/fanout-tree.mjs';
import { startPhaseMeter } from './support/machine-cpu.mjs';
import { packWithCli } from './support/package-fixture.mjs';
import { clockTicksPerSecond } from './support/proc-stats.mjs';
import { CLI_BUNDLE, HUB_BIN, UsageError } from './support/processes.mjs';
import { recordDeletion, waitForInodeRest } from './support/inode-rest.mjs';
import { settleDisk } from './support/settle-disk.mjs';
import { formatBytes, parseSize } from './support/units.mjs';

/** Pass marks (issue 4): deployment time at most this multiple of the floor; a redeploy sends no bytes. */
export const TARGETS = { ratio: 1.5, redeployBytes: 0 };
const DEFAULTS = { tentacles: 10, size: '200MiB', files: 10_000, timeoutSeconds: 900 };
const PACKAGE = { id: 'Bench.Fanout', version: '1.0.0' };
const PROJECT = 'fanout';
const ENVIRONMENT = 'Bench';
const ROLE = 'web';
const ONLINE_TIMEOUT_MS = 60_000;
/** The report quotes at most this many task-log lines of the first tentacle per deployment. */
const MACHINE_LOG_LINES = 20;
/** The smallest payload per file the tree generator is meant for. */
const MIN_BYTES_PER_FILE = 256;

export const usage = `fanout [--tentacles N] [--size SIZE] [--files N] [--timeout S] [--floor-only] [--keep] [--no-wait]
  --tentacles N  real tentacle processes, all in environment ${ENVIRONMENT} with role ${ROLE} (default ${DEFAULTS.tentacles}); the floor extracts into as many folders
  --size SIZE    payload of the package before zipping, e.g. 20MiB, 200MiB (default ${DEFAULTS.size})
  --files N      files in the package (default ${DEFAULTS.files}): mostly small text, some medium, a few large binaries
  --timeout S    give up on a deployment after S seconds (default ${DEFAULTS.timeoutSeconds})
  --floor-only   build the package and measure the floor only (no hub, no tentacles)
  --keep         keep the temporary folder (package tree, zip, hub data, tentacle homes) and print its path
  --no-wait      start at once, even when an earlier run deleted its files on this ext4 file system
                 without a journal less than six minutes ago (by default the run waits: see README)`;

/** @param {string[]} args */
function parseOptions(args) {
  let values;
  try {
    const text = /** @type {const} */ ({ type: 'string' });
    const flag = /** @type {const} */ ({ type: 'boolean' });
    ({ values } = parseArgs({ args, strict: true, allowPositionals: false, options: { tentacles: text, size: text, files: text, timeout: text, 'floor-only': flag, keep: flag, 'no-wait': flag } }));
  } catch (error) {
    throw new UsageError(/** @type {Error} */ (error).message);
  }
  /** @param {string} name @param {unknown} raw @param {number} fallback @param {number} min @param {number} max */
  const integer = (name, raw, fallback, min, max) => {
    const value = Number(raw ?? fallback);
    if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name}: "${raw}" is not a whole number from ${min} to ${max}`);
    return value;
  };
  const size = parseSize(values.size ?? DEFAULTS.size);
  if (size === undefined) throw new UsageError(`--size: "${values.size}" is not a size such as 20MiB or 200MiB`);
  const files = integer('files', values.files, DEFAULTS.files, 10, 200_000);
  if (size < files * MIN_BYTES_PER_FILE) throw new UsageError(`--size ${formatBytes(size)} is too small for ${files} files: give at least ${MIN_BYTES_PER_FILE} bytes per file`);
  return {
    tentacles: integer('tentacles', values.tentacles, DEFAULTS.tentacles, 1, 100),
    size,
    files,
    timeoutSeconds: integer('timeout', values.timeout, DEFAULTS.timeoutSeconds, 10, 7200),
    floorOnly: values['floor-only'] === true,
    keep: values.keep === true,
    wait: values['no-wait'] !== true,
  };
}

/** @param {string} message */
const progress = (message) => process.stderr.write(`[fanout] ${message}\n`);
const seconds = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(2)} s`;

/**
 * @param {string[]} args
 * @param {import('./support/processes.mjs').Scope} scope
 * @returns {Promise<number>}
 */
export async function run(args, scope) {
  const options = parseOptions(args);
  const N = options.tentacles;
  for (const bin of options.floorOnly ? [CLI_BUNDLE] : [HUB_BIN, TENTACLE_BIN, CLI_BUNDLE]) {
    if (!existsSync(bin)) throw new Error(`${path.relative(process.cwd(), bin)} is missing: build first (npm run build)`);
  }
  const unzipVersion = await requireUnzip();
  if (options.wait) await waitForInodeRest(tmpdir(), progress);
  const tmp = await mkdtemp(path.join(tmpdir(), 'cuttle-bench-fanout-'));
  /** files this run made, counted as each phase starts (a failed phase leaves some): the tree, every floor and release folder, for the next run's wait */
  let filesMade = 0;
  scope.defer(async () => {
    if (options.keep) progress(`kept ${tmp}`);
    else {
      await rm(tmp, { recursive: true, force: true });
      if (filesMade > 0) await recordDeletion(tmp, filesMade);
    }
  });
  await checkFreeDisk(tmp, options);

  progress(`writing a ${formatBytes(options.size)} package tree of ${options.files} files in ${tmp}`);
  let started = performance.now();
  filesMade += options.files;
  const tree = await writeFanoutTree(path.join(tmp, 'package'), options.size, options.files);
  const treeMs = performance.now() - started;
  started = performance.now();
  const zip = await packWithCli(scope, path.join(tmp, 'package'), path.join(tmp, 'out'), PACKAGE);
  const packMs = performance.now() - started;
  const zipBytes = (await stat(zip)).size;
  // the tree stays until the end, like every folder of the run (see measureFloor: deleting files slows creating them)
  started = performance.now();
  const sha256 = await hashFile(zip); // also warms the page cache for every contender
  const hashMs = performance.now() - started;
  progress(`packed ${path.basename(zip)}: ${formatBytes(zipBytes)} in ${seconds(packMs)} (tree written in ${seconds(treeMs)})`);

  const ticksPerSecond = await clockTicksPerSecond();
  /** @type {Record<string, import('./support/machine-cpu.mjs').PhaseCpu>} how busy the machine was in each timed phase, and with what */
  const cpu = {};
  /** @type {ReturnType<typeof startPhaseMeter> | undefined} */
  let meter;
  /** The floor into `<name>-1`... , its machine CPU recorded as cpu[name]. @param {'floor' | 'floor-after'} name */
  const floorRun = async (name) => {
    progress(`${name}: unzip -q into ${N} folders, 2 at a time`);
    filesMade += tree.files * N;
    const floor = await measureFloor(scope, {
      zip, dir: tmp, count: N, name,
      untimed: async () => {
        await restDisk(tmp);
        meter = startPhaseMeter(ticksPerSecond);
      },
      onStop: () => {
        if (meter) cpu[name] = meter.stop();
      },
    });
    progress(`${name}: ${seconds(floor.totalMs)}`);
    return floor;
  };
  const floor = await floorRun('floor');
  /** @type {import('./support/fanout-report.mjs').FanoutResults} */
  const results = {
    options, targets: TARGETS, cpuCount: cpus().length, zipName: path.basename(zip), zipBytes, sha256, tree,
    prepare: { treeMs, packMs, hashMs }, unzipVersion, floor, cpu,
  };
  if (options.floorOnly) {
    printFanoutReport(results);
    return 0;
  }

  const apiKey = randomBytes(30).toString('base64url'); // 40 characters
  const { hub, ready, api, apiUrl, tls } = await startFanoutHub(scope, { dir: tmp, apiKey, environment: ENVIRONMENT });
  progress(`hub pid ${hub.pid} on port ${ready.port}, tentacle port ${ready.tentaclePort}; registering ${N} tentacles`);
  started = performance.now();
  const tentacles = await startTentacles(scope, { dir: tmp, api, ready, count: N, environment: ENVIRONMENT, role: ROLE });
  await waitAllOnline({ api, hub, tentacles, environment: ENVIRONMENT, timeoutMs: ONLINE_TIMEOUT_MS });
  const onlineMs = performance.now() - started;
  progress(`${N} tentacles online after ${seconds(onlineMs)}`);

  const pushMs = await pushPackage(scope, { zip, apiUrl, apiKey });
  const release = await createProjectRelease(api, { project: PROJECT, packageId: PACKAGE.id, role: ROLE, parallelism: Math.max(N, 10) });
  results.setup = { onlineMs, pushMs, release };
  const ours = [hub.pid, ...tentacles.map((t) => t.child.pid)];
  const deploy = { api, hub, tentacles, project: PROJECT, release, environment: ENVIRONMENT, timeoutMs: options.timeoutSeconds * 1000, ticksPerSecond };

  await restDisk(tmp);
  progress(`deploying release ${release} of ${PROJECT} to ${N} tentacles`);
  filesMade += tree.files * N;
  meter = startPhaseMeter(ticksPerSecond, ours);
  try {
    results.deploy = await deployAndWait(deploy);
    cpu.deployment = meter.stop();
  } catch (error) {
    results.failure = `the deployment did not finish: ${/** @type {Error} */ (error).message}`;
    printFanoutReport(results);
    return 1;
  }
  progress(`deployment: ${results.deploy.state} after ${seconds(results.deploy.ms)}`);
  if (results.deploy.state !== 'success') {
    results.failure = await failureWithLog('the deployment', results.deploy, api);
    printFanoutReport(results);
    return 1;
  }
  results.excerpts = { deployment: await machineLines(api, results.deploy.taskId, tentacles[0]?.name ?? '') };
  results.installs = await verifyInstalls({ tentacles, project: PROJECT, environment: ENVIRONMENT, release, marker: DEPLOY_MARKER });
  try {
    results.floorAfter = await floorRun('floor-after');
  } catch (error) {
    // the deployment is measured: report it against the floor before it, and say why
    (results.notes ??= []).push(`the floor after the deployment failed (${/** @type {Error} */ (error).message}); the ratio is against the floor before it alone`);
  }

  await restDisk(tmp);
  progress(`redeploying release ${release} (the package is in every tentacle's cache now)`);
  filesMade += tree.files * N;
  meter = startPhaseMeter(ticksPerSecond, ours);
  try {
    results.redeploy = await deployAndWait(deploy);
    cpu.redeploy = meter.stop();
  } catch (error) {
    results.failure = `the redeploy did not finish: ${/** @type {Error} */ (error).message}`;
    printFanoutReport(results);
    return 1;
  }
  progress(`redeploy: ${results.redeploy.state} after ${seconds(results.redeploy.ms)}`);
  if (results.redeploy.state !== 'success') {
    results.failure = await failureWithLog('the redeploy', results.redeploy, api);
    printFanoutReport(results);
    return 1;
  }
  results.excerpts.redeploy = await machineLines(api, results.redeploy.taskId, tentacles[0]?.name ?? '');

  // last, so that it takes no memory or disk the timed phases would have had
  progress(`transfer reference: the zip over TLS websockets to ${N} receivers at once`);
  try {
    results.transfer = await measureTransfer(scope, {
      zip, sha256, dir: tmp, count: N, ...tls,
      untimed: async (receivers) => {
        await restDisk(tmp);
        meter = startPhaseMeter(ticksPerSecond, [hub.pid, ...tentacles.map((t) => t.child.pid), ...receivers]);
      },
      onStop: () => {
        if (meter) cpu.transfer = meter.stop();
      },
    });
    progress(`transfer reference: ${seconds(results.transfer.totalMs)}`);
  } catch (error) {
    (results.notes ??= []).push(`the transfer reference failed (${/** @type {Error} */ (error).message}); it is a reference only`);
  }
  return printFanoutReport(results) ? 0 : 1;
}

/**
 * Why a run stopped: the deployment's state and the tail of its task log (printed whole to stderr).
 * @param {string} what @param {import('./support/fanout-deploy.mjs').DeployRun} run @param {import('./support/swarm-hub.mjs').HubApi} api
 */
async function failureWithLog(what, run, api) {
  const log = await taskLog(api, run.taskId).catch((/** @type {Error} */ error) => `(GET /tasks/${run.taskId}/log failed: ${error.message})`);
  process.stderr.write(`\n[fanout] task ${run.taskId} log (GET /api/v1/tasks/${run.taskId}/log):\n${log}\n`);
  return `${what} (task ${run.taskId}) ended ${run.state} (targets above); the end of its log:\n${tail(log, 40).replace(/^/gm, '    ')}`;
}

/**
 * The task log's lines about one machine (where its time went: transfer, extraction, scripts, switch).
 * @param {import('./support/swarm-hub.mjs').HubApi} api @param {number} taskId @param {string} machine
 */
async function machineLines(api, taskId, machine) {
  const log = await taskLog(api, taskId).catch((/** @type {Error} */ error) => `(GET /tasks/${taskId}/log failed: ${error.message})`);
  const lines = log.split('\n').filter((line) => line.includes(`[${machine}]`) || line.startsWith('('));
  return lines.length > MACHINE_LOG_LINES ? [...lines.slice(0, MACHINE_LOG_LINES), `... (${lines.length - MACHINE_LOG_LINES} more lines)`] : lines;
}

/**
 * The run needs room for the zip in the hub and in every tentacle's cache, the floor's folders,
 * and two releases per tentacle: stop early, and say so, when the disk is clearly too small.
 * @param {string} dir @param {{ size: number, tentacles: number, keep: boolean }} options
 */
async function checkFreeDisk(dir, { size, tentacles, keep }) {
  const fs = await statfs(dir).catch(() => undefined);
  if (fs === undefined) return;
  const free = fs.bavail * fs.bsize;
  const need = Math.ceil(size * (6 * tentacles + 3) * 1.1); // zip <= payload; per tentacle: two floor folders, a transfer reference file, the cached zip, two releases; and the tree, the zip, the hub's copy
  if (free < need) {
    throw new Error(`${formatBytes(free)} free under ${dir}, but this run needs about ${formatBytes(need)}${keep ? ' (and --keep leaves it there)' : ''}: free some space or use a smaller --size or fewer --tentacles`);
  }
}

/**
 * Brings the disk to rest before a timed phase (support/settle-disk.mjs) and says so when that
 * took a while: the previous phase's deletions were still being trimmed.
 * @param {string} dir
 */
async function restDisk(dir) {
  const { waitedMs, quiet } = await settleDisk(dir);
  if (quiet === false) progress(`the disk was still busy after ${seconds(waitedMs)}; timing anyway`);
  else if (waitedMs >= 3000) progress(`waited ${seconds(waitedMs)} for the disk to come to rest`);
}

/** SHA-256 of a file, streamed. @param {string} file */
async function hashFile(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}
