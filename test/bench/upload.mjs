// Upload benchmark: `cuttle push` of one large package to the real hub, against a baseline taken
// in the same run (a bare node:http server streaming the body to disk, fed by a node:http client
// that streams the file the way `cuttle push` does). Rounds alternate baseline and hub; medians
// are compared. The hub's RSS is sampled during its uploads: memory must not grow with the size.
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { packWithCli, writePackageTree } from './support/package-fixture.mjs';
import { CLI_BIN, CLI_BUNDLE, HUB_BIN, UsageError, cleanEnv, spawnNode, waitForEvent } from './support/processes.mjs';
import { sampleRss } from './support/rss.mjs';
import { settleDisk } from './support/settle-disk.mjs';
import { MiB, formatBytes, median, mibPerSecond, parseSize, round } from './support/units.mjs';

/** Pass marks: hub throughput at least this share of the baseline's; hub RSS growth at most this. */
export const TARGETS = { ratio: 0.8, rssGrowthMiB: 64 };
const DEFAULTS = { size: '1GiB', rounds: 3 };
const PACKAGE = { id: 'Bench.Upload', version: '1.0.0' };

export const usage = `upload [--size SIZE] [--rounds N] [--keep]
  --size SIZE   payload of the package, e.g. 64MiB, 1GiB (default ${DEFAULTS.size})
  --rounds N    uploads to the baseline and to the hub, alternately (default ${DEFAULTS.rounds}; medians are compared)
  --keep        keep the temporary folder (package, zip, hub data) and print its path`;

/** @param {string[]} args */
function parseOptions(args) {
  let values;
  try {
    ({ values } = parseArgs({ args, strict: true, allowPositionals: false, options: { size: { type: 'string' }, rounds: { type: 'string' }, keep: { type: 'boolean' } } }));
  } catch (error) {
    throw new UsageError(/** @type {Error} */ (error).message);
  }
  const size = parseSize(values.size ?? DEFAULTS.size);
  if (size === undefined) throw new UsageError(`--size: "${values.size}" is not a size such as 64MiB or 1GiB`);
  const rounds = Number(values.rounds ?? DEFAULTS.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new UsageError(`--rounds: "${values.rounds}" is not a whole number from 1 to 50`);
  return { size, rounds, keep: values.keep === true };
}

/** @param {string} message */
const progress = (message) => process.stderr.write(`[upload] ${message}\n`);

/**
 * @param {string[]} args
 * @param {import('./support/processes.mjs').Scope} scope
 * @returns {Promise<number>}
 */
export async function run(args, scope) {
  const options = parseOptions(args);
  for (const bin of [HUB_BIN, CLI_BUNDLE]) {
    if (!existsSync(bin)) throw new Error(`${path.relative(process.cwd(), bin)} is missing: build first (npm run build)`);
  }
  const tmp = await mkdtemp(path.join(tmpdir(), 'cuttle-bench-upload-'));
  scope.defer(async () => {
    if (options.keep) progress(`kept ${tmp}`);
    else await rm(tmp, { recursive: true, force: true });
  });

  progress(`writing a ${formatBytes(options.size)} package tree in ${tmp}`);
  await writePackageTree(path.join(tmp, 'package'), options.size);
  let started = performance.now();
  const zip = await packWithCli(scope, path.join(tmp, 'package'), path.join(tmp, 'out'), PACKAGE);
  const zipBytes = (await stat(zip)).size;
  progress(`packed ${path.basename(zip)} (${formatBytes(zipBytes)}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (!options.keep) await rm(path.join(tmp, 'package'), { recursive: true, force: true });
  await readThrough(zip); // warm page cache for both contenders

  const apiKey = randomBytes(30).toString('base64url'); // 40 characters
  const hub = spawnNode(scope, [HUB_BIN, '--data', path.join(tmp, 'data'), '--host', '127.0.0.1', '--port', '0', '--tentacle-port', '0'], {
    env: cleanEnv({ CUTTLE_ADMIN_API_KEY: apiKey, CUTTLE_LOG_LEVEL: 'warn' }),
  });
  const hubReady = await waitForEvent(hub, 'ready', 'the hub');
  const sinkFile = path.join(tmp, 'baseline-upload.bin');
  const sink = spawnNode(scope, [path.join(import.meta.dirname, 'baseline-sink.mjs'), sinkFile]);
  const sinkReady = await waitForEvent(sink, 'ready', 'the baseline sink');
  progress(`hub pid ${hub.pid} on port ${hubReady.port}; baseline sink pid ${sink.pid} on port ${sinkReady.port}`);

  const cliStartupMs = await timeCliStartup(scope);
  const rounds = [];
  for (let index = 1; index <= options.rounds; index += 1) {
    await settleDisk(tmp);
    started = performance.now();
    await postFile(Number(sinkReady.port), zip, zipBytes);
    const baselineMs = performance.now() - started;
    await rm(sinkFile, { force: true });
    await settleDisk(tmp);
    const hubRound = await pushToHub(scope, hub, `http://127.0.0.1:${hubReady.port}`, apiKey, zip);
    rounds.push({ baselineMs, ...hubRound });
    progress(
      `round ${index}/${options.rounds}: baseline ${(baselineMs / 1000).toFixed(2)} s, hub ${(hubRound.hubMs / 1000).toFixed(2)} s, ` +
        `hub RSS ${hubRound.rssGrowth === undefined ? 'n/a' : `+${(hubRound.rssGrowth / MiB).toFixed(1)} MiB`}`,
    );
  }
  printReport(options, zip, zipBytes, rounds, cliStartupMs);
  return 0;
}

/**
 * Median time of `cuttle --version` from spawn to exit: the CLI's fixed start-up cost, which the
 * hub's timing includes and the in-process baseline client does not (reported, not subtracted).
 * @param {import('./support/processes.mjs').Scope} scope
 */
async function timeCliStartup(scope) {
  const times = [];
  for (let index = 0; index < 3; index += 1) {
    const started = performance.now();
    await spawnNode(scope, [CLI_BIN, '--version']).exited;
    times.push(performance.now() - started);
  }
  return median(times);
}


/** Reads the file once and throws the bytes away. @param {string} file */
async function readThrough(file) {
  for await (const chunk of createReadStream(file)) void chunk;
}

/**
 * Streams `file` to the baseline sink the way `cuttle push` does: a read stream piped into
 * http.request with Content-Length. Resolves when the 201 answer has been read.
 * @param {number} port @param {string} file @param {number} size
 */
function postFile(port, file, size) {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { 'Content-Type': 'application/zip', 'Content-Length': size } });
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => (response.statusCode === 201 ? resolve(undefined) : reject(new Error(`baseline sink answered ${response.statusCode}`))));
      response.on('error', reject);
    });
    pipeline(createReadStream(file), request).catch(reject);
  });
}

/**
 * Runs `cuttle push <zip> --json` (timed from spawn to exit) while sampling the hub's RSS.
 * @param {import('./support/processes.mjs').Scope} scope
 * @param {import('./support/processes.mjs').Child} hub
 * @param {string} hubUrl @param {string} apiKey @param {string} zip
 */
async function pushToHub(scope, hub, hubUrl, apiKey, zip) {
  const rss = sampleRss(hub.pid);
  const started = performance.now();
  const push = spawnNode(scope, [CLI_BIN, 'push', zip, '--json', '--overwrite-mode', 'OverwriteExisting'], {
    env: cleanEnv({ CUTTLE_HUB: hubUrl, CUTTLE_API_KEY: apiKey }),
  });
  const { code, signal } = await push.exited;
  const hubMs = performance.now() - started;
  const memory = rss.stop();
  if (code !== 0) {
    throw new Error(`\`cuttle push\` failed (${signal ?? `exit ${code}`}); stderr:\n${push.stderr()}\nstdout:\n${push.stdoutLines.join('\n')}`);
  }
  if (hub.process.exitCode !== null || hub.process.signalCode !== null) throw new Error(`the hub exited during the upload; stderr:\n${hub.stderr()}`);
  return { hubMs, rssBaseline: memory.baseline, rssPeak: memory.peak, rssGrowth: memory.growth };
}

/**
 * @param {{ size: number, rounds: number }} options @param {string} zip @param {number} zipBytes
 * @param {Array<{ baselineMs: number, hubMs: number, rssBaseline?: number, rssPeak?: number, rssGrowth?: number }>} rounds
 * @param {number} cliStartupMs
 */
function printReport(options, zip, zipBytes, rounds, cliStartupMs) {
  const baselineMiBps = median(rounds.map((r) => mibPerSecond(zipBytes, r.baselineMs)));
  const hubMiBps = median(rounds.map((r) => mibPerSecond(zipBytes, r.hubMs)));
  const ratio = hubMiBps / baselineMiBps;
  const growths = rounds.map((r) => r.rssGrowth).filter((g) => g !== undefined);
  const rssGrowthMiB = growths.length === rounds.length ? Math.max(...growths) / MiB : undefined;
  const ratioMet = ratio >= TARGETS.ratio;
  const rssMet = rssGrowthMiB !== undefined && rssGrowthMiB <= TARGETS.rssGrowthMiB;
  const mark = (/** @type {boolean} */ met) => (met ? 'MET' : 'MISSED');
  const mib = (/** @type {number | undefined} */ bytes) => (bytes === undefined ? 'n/a' : `${(bytes / MiB).toFixed(1)} MiB`);

  const lines = [
    '',
    `Upload benchmark: ${path.basename(zip)}, ${formatBytes(zipBytes)} (payload ${formatBytes(options.size)}), ${options.rounds} round(s), loopback`,
    '',
    '  round   baseline (bare node:http)   hub (cuttle push, spawn to exit)   hub RSS before -> peak (growth)',
    ...rounds.map((r, i) =>
      `  ${String(i + 1).padEnd(5)}   ${`${(r.baselineMs / 1000).toFixed(2)} s  ${mibPerSecond(zipBytes, r.baselineMs).toFixed(1)} MiB/s`.padEnd(25)}   ` +
        `${`${(r.hubMs / 1000).toFixed(2)} s  ${mibPerSecond(zipBytes, r.hubMs).toFixed(1)} MiB/s`.padEnd(32)}   ${mib(r.rssBaseline)} -> ${mib(r.rssPeak)} (+${mib(r.rssGrowth)})`,
    ),
    '',
    `  median throughput   baseline ${baselineMiBps.toFixed(1)} MiB/s, hub ${hubMiBps.toFixed(1)} MiB/s`,
    `  ratio hub/baseline  ${ratio.toFixed(3)}   target >= ${TARGETS.ratio}: ${mark(ratioMet)}`,
    `                      (hub times include the CLI's start-up, \`cuttle --version\` takes ${(cliStartupMs / 1000).toFixed(2)} s; not subtracted)`,
    `  hub RSS growth      ${rssGrowthMiB === undefined ? 'n/a (no /proc)' : `${rssGrowthMiB.toFixed(1)} MiB`} (worst round)   target <= ${TARGETS.rssGrowthMiB} MiB: ${mark(rssMet)}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const result = {
    bench: 'upload',
    sizeBytes: zipBytes,
    hubMiBps: round(hubMiBps),
    baselineMiBps: round(baselineMiBps),
    ratio: round(ratio, 3),
    hubRssGrowthMiB: rssGrowthMiB === undefined ? null : round(rssGrowthMiB),
    targets: TARGETS,
    pass: ratioMet && rssMet,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
