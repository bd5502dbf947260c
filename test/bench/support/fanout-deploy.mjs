// The fanout benchmark's deployment half: push the package with the CLI, define the project,
// create a release, then deploy it and time it from the POST until the task says it finished,
// sampling the memory and CPU of the hub and of every tentacle meanwhile.
import { readFile, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI_BIN, cleanEnv, spawnNode } from './processes.mjs';
import { startCpuMeter } from './proc-stats.mjs';
import { sampleRss } from './rss.mjs';
import { hasExited } from './swarm-hub.mjs';

/** The task is polled this often (GET /api/v1/tasks/{id}); the measured time is that coarse. */
export const TASK_POLL_MS = 100;
const FINISHED = new Set(['success', 'failed', 'cancelled']);
const LOG_TIMEOUT_MS = 30_000;

/**
 * `cuttle push <zip> --json`, timed from spawn to exit.
 * @param {import('./processes.mjs').Scope} scope @param {{ zip: string, apiUrl: string, apiKey: string }} options
 */
export async function pushPackage(scope, { zip, apiUrl, apiKey }) {
  const started = performance.now();
  const push = spawnNode(scope, [CLI_BIN, 'push', zip, '--json'], { env: cleanEnv({ CUTTLE_HUB: apiUrl, CUTTLE_API_KEY: apiKey }) });
  const { code, signal } = await push.exited;
  if (code !== 0) throw new Error(`\`cuttle push\` failed (${signal ?? `exit ${code}`}); stderr:\n${push.stderr()}\nstdout:\n${push.stdoutLines.join('\n')}`);
  return performance.now() - started;
}

/**
 * PUT the project (one deploy-package step) and create a release of it; resolves to its version.
 * @param {import('./swarm-hub.mjs').HubApi} api
 * @param {{ project: string, packageId: string, role: string, parallelism: number }} options
 */
export async function createProjectRelease(api, { project, packageId, role, parallelism }) {
  await api.request('PUT', `/projects/${project}`, {
    description: 'Fanout benchmark: one package to every web machine of the environment',
    steps: [{ name: 'Deploy package', type: 'deploy-package', package: packageId, roles: [role], parallelism }],
  });
  const release = await api.request('POST', `/projects/${project}/releases`, {});
  if (typeof release?.version !== 'string') throw new Error(`POST /projects/${project}/releases answered without a version: ${JSON.stringify(release)}`);
  return /** @type {string} */ (release.version);
}

/**
 * @typedef {object} TaskTarget
 * @property {string} machine
 * @property {string} state
 * @property {number} bytesSent
 * @property {string | null} error
 * @property {string | null} errorCode
 * @property {string | null} startedAt
 * @property {string | null} finishedAt
 *
 * @typedef {object} DeployRun
 * @property {number} ms  from sending the POST until a poll saw the task finished
 * @property {number} taskId
 * @property {string} state
 * @property {string | null} error
 * @property {TaskTarget[]} targets
 * @property {number} bytesSent  sum over the targets
 * @property {number | undefined} queuedMs  from the task's createdAt to its startedAt (hub clock)
 * @property {{ hub: number | undefined, tentacleMax: number | undefined, tentacleSum: number | undefined }} peakRss
 * @property {{ hub: number | undefined, tentacles: number | undefined }} cpuSeconds
 */

/**
 * POST /deployments and poll the task every TASK_POLL_MS until it finishes or `timeoutMs` passes.
 * @param {{ api: import('./swarm-hub.mjs').HubApi, hub: import('./processes.mjs').Child, tentacles: import('./fanout-cluster.mjs').Tentacle[],
 *   project: string, release: string, environment: string, timeoutMs: number, ticksPerSecond: number }} options
 * @returns {Promise<DeployRun>}
 */
export async function deployAndWait({ api, hub, tentacles, project, release, environment, timeoutMs, ticksPerSecond }) {
  const processes = [hub, ...tentacles.map((t) => t.child)];
  const rss = processes.map((child) => sampleRss(child.pid));
  const cpu = processes.map((child) => startCpuMeter(child.pid, ticksPerSecond));
  const started = performance.now();
  let task;
  let ms = NaN;
  /** @type {Array<ReturnType<ReturnType<typeof sampleRss>['stop']>>} */
  let memory = [];
  /** @type {Array<ReturnType<ReturnType<typeof startCpuMeter>['stop']>>} */
  let cpuTimes = [];
  try {
    const deployment = await api.request('POST', '/deployments', { project, release, environment });
    const taskId = Number(deployment?.taskId);
    if (!Number.isInteger(taskId)) throw new Error(`POST /deployments answered without a taskId: ${JSON.stringify(deployment)}`);
    for (;;) {
      const polled = performance.now();
      task = await api.request('GET', `/tasks/${taskId}`);
      if (FINISHED.has(task?.state)) {
        ms = performance.now() - started;
        break;
      }
      const gone = processes.find(hasExited);
      if (gone) throw new Error(`${gone === hub ? 'the hub' : `tentacle pid ${gone.pid}`} exited during the deployment; stderr:\n${gone.stderr()}`);
      if (performance.now() - started > timeoutMs) {
        const log = await taskLog(api, taskId).catch((error) => `(log unavailable: ${error.message})`);
        throw new Error(`the deployment (task ${taskId}) did not finish in ${timeoutMs / 1000} s; it is ${task?.state}; targets:\n${describeTargets(task?.targets ?? [])}\nlog tail:\n${tail(log, 60)}`);
      }
      await sleep(Math.max(0, TASK_POLL_MS - (performance.now() - polled)));
    }
  } finally {
    memory = rss.map((sampler) => sampler.stop());
    cpuTimes = cpu.map((meter) => meter.stop());
  }
  /** @type {TaskTarget[]} */
  const targets = Array.isArray(task.targets) ? task.targets : [];
  const peaks = memory.map((m) => m.peak);
  const tentaclePeaks = peaks.slice(1);
  const defined = (/** @type {Array<number | undefined>} */ values) => (values.every((v) => v !== undefined) ? /** @type {number[]} */ (values) : undefined);
  const tentacleValues = defined(tentaclePeaks);
  const tentacleCpu = defined(cpuTimes.slice(1).map((c) => c.cpuSeconds));
  return {
    ms,
    taskId: task.id,
    state: task.state,
    error: task.error ?? null,
    targets,
    bytesSent: targets.reduce((sum, t) => sum + (Number(t.bytesSent) || 0), 0),
    queuedMs: task.startedAt && task.createdAt ? Date.parse(task.startedAt) - Date.parse(task.createdAt) : undefined,
    peakRss: {
      hub: peaks[0],
      tentacleMax: tentacleValues && Math.max(...tentacleValues),
      tentacleSum: tentacleValues && tentacleValues.reduce((a, b) => a + b, 0),
    },
    cpuSeconds: { hub: cpuTimes[0]?.cpuSeconds, tentacles: tentacleCpu && tentacleCpu.reduce((a, b) => a + b, 0) },
  };
}

/** The task log as text (GET /tasks/{id}/log). @param {import('./swarm-hub.mjs').HubApi} api @param {number} taskId */
export async function taskLog(api, taskId) {
  const response = await fetch(`${api.base}/tasks/${taskId}/log`, { headers: { 'X-Api-Key': api.apiKey, Accept: 'text/plain' }, signal: AbortSignal.timeout(LOG_TIMEOUT_MS) });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET /tasks/${taskId}/log answered ${response.status}: ${text.slice(0, 500)}`);
  return text;
}

/** @param {TaskTarget[]} targets */
export function describeTargets(targets) {
  return targets.map((t) => `  ${t.machine}: ${t.state}${t.errorCode ? ` (${t.errorCode})` : ''}${t.error ? `: ${t.error}` : ''}, ${t.bytesSent} bytes sent`).join('\n');
}

/** The last `lines` lines of `text`. @param {string} text @param {number} lines */
export function tail(text, lines) {
  const all = text.trimEnd().split('\n');
  return (all.length > lines ? [`... (${all.length - lines} earlier lines)`, ...all.slice(-lines)] : all).join('\n');
}

/**
 * Checks on disk that each tentacle's `current` release is `release` and that Deploy.sh ran
 * (its marker holds the release); counts the files of the first one's release folder.
 * @param {{ tentacles: import('./fanout-cluster.mjs').Tentacle[], project: string, environment: string, release: string, marker: string }} options
 * @returns {Promise<{ ok: number, problems: string[], firstFiles: number | undefined }>}
 */
export async function verifyInstalls({ tentacles, project, environment, release, marker }) {
  /** @type {string[]} */
  const problems = [];
  let ok = 0;
  let firstFiles;
  for (const [index, tentacle] of tentacles.entries()) {
    const current = path.join(tentacle.home, 'apps', project, environment, 'current');
    try {
      const folder = await realpath(current);
      const written = (await readFile(path.join(folder, marker), 'utf8')).trim();
      if (written !== release) problems.push(`${tentacle.name}: ${marker} in ${folder} says "${written}", not "${release}"`);
      else ok += 1;
      if (index === 0) firstFiles = await countFiles(folder);
    } catch (error) {
      problems.push(`${tentacle.name}: ${/** @type {Error} */ (error).message}`);
    }
  }
  return { ok, problems, firstFiles };
}

/** Regular files under `dir`, recursively. @param {string} dir @returns {Promise<number>} */
async function countFiles(dir) {
  let count = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) count += await countFiles(path.join(dir, entry.name));
    else if (entry.isFile()) count += 1;
  }
  return count;
}
