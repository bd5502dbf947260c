#!/usr/bin/env node
// One process of the swarm benchmark: `node test/bench/swarm-worker.mjs <jobfile>` runs many real
// TentacleConnections (tentacle/dist) against the hub, sharing one pinned TLS context and one OS
// info object, with a silent logger. stdout: one JSON line per change of its counts (at most
// every REPORT_INTERVAL_MS). stdin: a `stop` line (or end of input, SIGTERM, SIGINT) stops every
// connection with a close frame, reports once more and exits.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { TentacleConnection, createPinnedTls, createSilentLogger, readOsInfo } from '../../tentacle/dist/index.js';

/** Status lines are written at most this often. */
const REPORT_INTERVAL_MS = 100;
/** After a stop request the worker exits at the latest after this long. */
const STOP_DEADLINE_MS = 5_000;
/** Distinct failure reasons counted; later ones are lumped together as "other". */
const MAX_REASONS = 20;

/**
 * @typedef {object} SwarmJob
 * @property {number} worker
 * @property {string} hubUrl  wss://127.0.0.1:<tentaclePort>
 * @property {string} certPem
 * @property {string} fingerprint
 * @property {string} homeDir
 * @property {string} version
 * @property {Array<{ name: string, privateKeyPem: string }>} machines
 */

/** @typedef {import('../../tentacle/dist/index.js').ConnectionState} ConnectionState */

const jobFile = process.argv[2];
if (jobFile === undefined) {
  process.stderr.write('usage: node test/bench/swarm-worker.mjs <jobfile>\n');
  process.exit(2);
}
/** @type {SwarmJob} */
const job = JSON.parse(readFileSync(jobFile, 'utf8'));
const tls = createPinnedTls(job.certPem, job.fingerprint);
const osInfo = readOsInfo();
const log = createSilentLogger();

/** @type {Record<ConnectionState, number>} */
const counts = { idle: job.machines.length, connecting: 0, handshaking: 0, online: 0, waiting: 0, stopping: 0, stopped: 0 };
/** Connect attempts that failed before the hub's hello, and online connections that were lost. */
const totals = { failedConnects: 0, drops: 0 };
/** @type {Map<string, number>} */
const reasons = new Map();
let dirty = true;

/** @param {string} reason */
function countReason(reason) {
  const key = reasons.has(reason) || reasons.size < MAX_REASONS ? reason : 'other';
  reasons.set(key, (reasons.get(key) ?? 0) + 1);
}

const connections = job.machines.map(({ name, privateKeyPem }) => {
  /** @type {ConnectionState} */
  let state = 'idle';
  return new TentacleConnection({
    identity: { name, privateKey: createPrivateKey(privateKeyPem) },
    hubUrl: job.hubUrl,
    tls,
    log,
    version: job.version,
    homeDir: job.homeDir,
    osInfo,
    onStateChange: (change) => {
      if (change.state === 'waiting') {
        if (state === 'online') totals.drops += 1;
        else totals.failedConnects += 1;
        countReason(`${change.failure ?? (state === 'online' ? 'closed' : 'failed')}: ${(change.reason ?? '').replace(/:\d{2,5}\b/g, ':<port>').slice(0, 160)}`);
      }
      counts[state] -= 1;
      counts[change.state] += 1;
      state = change.state;
      dirty = true;
    },
  });
});

function report() {
  dirty = false;
  const line = {
    event: 'status',
    worker: job.worker,
    total: connections.length,
    online: counts.online,
    connecting: counts.connecting + counts.handshaking,
    waiting: counts.waiting,
    stopped: counts.stopped,
    ...totals,
    reasons: Object.fromEntries(reasons),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const reporter = setInterval(() => {
  if (dirty) report();
}, REPORT_INTERVAL_MS);

/** @type {Promise<void> | undefined} */
let stopping;
function stopAll() {
  stopping ??= (async () => {
    setTimeout(() => process.exit(1), STOP_DEADLINE_MS).unref();
    await Promise.all(connections.map((connection) => connection.stop()));
    clearInterval(reporter);
    report();
    process.stdout.write(`${JSON.stringify({ event: 'stopped', worker: job.worker })}\n`);
    process.exit(0);
  })();
  return stopping;
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line.trim() === 'stop') void stopAll();
  })
  .on('close', () => void stopAll());
process.on('SIGTERM', () => void stopAll());
process.on('SIGINT', () => void stopAll());

process.stdout.write(`${JSON.stringify({ event: 'started', worker: job.worker, total: connections.length, pid: process.pid })}\n`);
for (const connection of connections) connection.start();
