// The fanout benchmark's system under test: one real hub and N real tentacle processes
// (`cuttle-tentacle register`, then `run`), each with its own home, all in one environment.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, cleanEnv, spawnNode } from './processes.mjs';
import { HubApi, hasExited, startHub } from './swarm-hub.mjs';

export const TENTACLE_BIN = path.join(REPO_ROOT, 'tentacle/dist/main.js');
const REGISTER_CONCURRENCY = 4;
const ONLINE_POLL_MS = 100;

/**
 * @typedef {object} Tentacle
 * @property {string} name
 * @property {string} home
 * @property {import('./processes.mjs').Child} child
 */

/**
 * Starts the hub on 127.0.0.1 (ports 0, data in `<dir>/hub-data`) and creates the environment.
 * @param {import('./processes.mjs').Scope} scope
 * @param {{ dir: string, apiKey: string, environment: string }} options
 */
export async function startFanoutHub(scope, { dir, apiKey, environment }) {
  const dataDir = path.join(dir, 'hub-data');
  const { hub, ready } = await startHub(scope, { dataDir, apiKey });
  const api = new HubApi(ready.port, apiKey);
  await api.createEnvironment(environment);
  return {
    hub,
    ready,
    api,
    apiUrl: `http://127.0.0.1:${ready.port}`,
    tls: { certFile: path.join(dataDir, 'tls', 'hub-cert.pem'), keyFile: path.join(dataDir, 'tls', 'hub-key.pem') },
  };
}

/**
 * Registers `count` tentacles (`fanout-01`...) with one registration token each, then starts
 * `cuttle-tentacle run` for each.
 * @param {import('./processes.mjs').Scope} scope
 * @param {{ dir: string, api: HubApi, ready: import('./swarm-hub.mjs').HubReady, count: number, environment: string, role: string }} options
 * @returns {Promise<Tentacle[]>}
 */
export async function startTentacles(scope, { dir, api, ready, count, environment, role }) {
  const width = Math.max(2, String(count).length);
  const names = Array.from({ length: count }, (_, index) => `fanout-${String(index + 1).padStart(width, '0')}`);
  let next = 0;
  const registerNext = async () => {
    while (next < names.length) {
      const name = /** @type {string} */ (names[next++]);
      const { token } = await api.request('POST', '/registration-tokens', { environments: [environment], roles: [role] });
      const register = spawnNode(scope, [
        TENTACLE_BIN, 'register',
        '--hub', `wss://127.0.0.1:${ready.tentaclePort}`, '--token', String(token), '--name', name,
        '--roles', role, '--environments', environment, '--home', path.join(dir, name), '--hub-fingerprint', ready.fingerprint,
      ]);
      const { code, signal } = await register.exited;
      if (code !== 0) throw new Error(`\`cuttle-tentacle register\` of ${name} failed (${signal ?? `exit ${code}`}); stderr:\n${register.stderr()}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(REGISTER_CONCURRENCY, count) }, registerNext));
  return names.map((name) => {
    const home = path.join(dir, name);
    const child = spawnNode(scope, [TENTACLE_BIN, 'run', '--home', home], { env: cleanEnv({ CUTTLE_TENTACLE_LOG_LEVEL: 'info' }) });
    return { name, home, child };
  });
}

/**
 * Polls the hub until every tentacle is online in the environment; fails when a process exits
 * or after `timeoutMs`.
 * @param {{ api: HubApi, hub: import('./processes.mjs').Child, tentacles: Tentacle[], environment: string, timeoutMs: number }} options
 * @returns {Promise<number>} milliseconds until all were online
 */
export async function waitAllOnline({ api, hub, tentacles, environment, timeoutMs }) {
  const started = performance.now();
  let online = 0;
  for (;;) {
    if (hasExited(hub)) throw new Error(`the hub exited (${hub.process.signalCode ?? hub.process.exitCode}); stderr:\n${hub.stderr()}`);
    const gone = tentacles.find((t) => hasExited(t.child));
    if (gone) throw new Error(`tentacle ${gone.name} exited (${gone.child.process.signalCode ?? gone.child.process.exitCode}); stderr:\n${gone.child.stderr()}`);
    const body = await api.request('GET', `/machines?environment=${encodeURIComponent(environment)}&status=online`).catch(() => undefined);
    online = Array.isArray(body?.items) ? body.items.length : online;
    if (online >= tentacles.length) return performance.now() - started;
    if (performance.now() - started > timeoutMs) {
      throw new Error(`only ${online}/${tentacles.length} tentacles were online after ${timeoutMs / 1000} s; first tentacle's stderr:\n${tentacles[0]?.child.stderr()}`);
    }
    await sleep(ONLINE_POLL_MS);
  }
}
