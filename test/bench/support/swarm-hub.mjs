// The hub side of the swarm benchmark: start (and restart) the real hub, talk to its HTTP API,
// and register many machines through the tentacle's own registration code.
import { generateKeyPairSync } from 'node:crypto';
import { HUB_BIN, cleanEnv, spawnNode, waitForEvent } from './processes.mjs';

/** The tentacle's library build (the real connection and registration code). */
export const TENTACLE_LIB = new URL('../../../tentacle/dist/index.js', import.meta.url);
/** Each API request of the benchmark gives up after this long. */
const API_TIMEOUT_MS = 10_000;

/**
 * @typedef {object} HubReady
 * @property {number} port
 * @property {number} tentaclePort
 * @property {string} fingerprint
 */

/**
 * Starts `hub/dist/main.js` on 127.0.0.1 and waits for its ready line.
 * @param {import('./processes.mjs').Scope} scope
 * @param {{ dataDir: string, apiKey: string, port?: number, tentaclePort?: number }} options
 * @returns {Promise<{ hub: import('./processes.mjs').Child, ready: HubReady }>}
 */
export async function startHub(scope, { dataDir, apiKey, port = 0, tentaclePort = 0 }) {
  const hub = spawnNode(scope, [HUB_BIN, '--data', dataDir, '--host', '127.0.0.1', '--port', String(port), '--tentacle-port', String(tentaclePort)], {
    env: cleanEnv({ CUTTLE_ADMIN_API_KEY: apiKey, CUTTLE_LOG_LEVEL: 'warn' }),
  });
  const event = await waitForEvent(hub, 'ready', 'the hub', 60_000);
  const ready = { port: Number(event.port), tentaclePort: Number(event.tentaclePort), fingerprint: String(event.fingerprint) };
  if (!Number.isInteger(ready.port) || !Number.isInteger(ready.tentaclePort) || !ready.fingerprint.startsWith('sha256:')) {
    throw new Error(`the hub's ready line lacks port, tentaclePort or fingerprint: ${JSON.stringify(event)}`);
  }
  return { hub, ready };
}

/**
 * SIGTERM by PID and wait for the exit; SIGKILL after `timeoutMs`.
 * @param {import('./processes.mjs').Child} hub @param {number} timeoutMs
 * @returns {Promise<{ exitMs: number, code: number | null, signal: string | null, killed: boolean }>}
 */
export async function terminateHub(hub, timeoutMs) {
  const started = performance.now();
  process.kill(hub.pid, 'SIGTERM');
  let timer;
  const late = await Promise.race([hub.exited.then(() => false), new Promise((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))]);
  clearTimeout(timer);
  if (late) process.kill(hub.pid, 'SIGKILL');
  const { code, signal } = await hub.exited;
  return { exitMs: performance.now() - started, code, signal, killed: late === true };
}

/** True once the child has exited. @param {import('./processes.mjs').Child} child */
export const hasExited = (child) => child.process.exitCode !== null || child.process.signalCode !== null;

/**
 * The hub's warnings and errors (pino JSON lines on stderr, level >= 40), counted by message.
 * @param {string} stderr @returns {Record<string, number>}
 */
export function hubWarnings(stderr) {
  /** @type {Record<string, number>} */
  const counts = {};
  for (const line of stderr.split('\n')) {
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      if (line.trim() !== '') counts[line.slice(0, 120)] = (counts[line.slice(0, 120)] ?? 0) + 1;
      continue;
    }
    if (typeof entry?.level === 'number' && entry.level >= 40) counts[String(entry.msg)] = (counts[String(entry.msg)] ?? 0) + 1;
  }
  return counts;
}

/** The hub's HTTP API with the admin key. */
export class HubApi {
  /** @param {number} port @param {string} apiKey */
  constructor(port, apiKey) {
    this.base = `http://127.0.0.1:${port}/api/v1`;
    this.apiKey = apiKey;
  }

  /** @param {string} method @param {string} path @param {unknown} [body] @returns {Promise<any>} */
  async request(method, path, body) {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { 'X-Api-Key': this.apiKey, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return text === '' ? undefined : JSON.parse(text);
  }

  /** @param {string} name */
  createEnvironment(name) {
    return this.request('POST', '/environments', { name });
  }

  /** Machines the hub reports online, or undefined when the API does not answer. */
  async countOnline() {
    try {
      const body = await this.request('GET', '/machines?status=online');
      return Array.isArray(body?.items) ? body.items.length : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * @typedef {object} SwarmMachine
 * @property {string} name
 * @property {string} privateKeyPem  PKCS8 PEM of its P-256 key
 */

/**
 * Generates `count` P-256 key pairs and registers `swarm-0001`... with the tentacle's own
 * `postRegistration` over the pinned TLS, `concurrency` at a time, with the admin key as the token.
 * @param {{ hubUrl: string, certPem: string, fingerprint: string, apiKey: string, count: number, environment: string, concurrency: number, onProgress?: (done: number) => void }} options
 * @returns {Promise<SwarmMachine[]>}
 */
export async function registerMachines({ hubUrl, certPem, fingerprint, apiKey, count, environment, concurrency, onProgress }) {
  const { postRegistration, parseHubUrl, createPinnedTls } = await import(TENTACLE_LIB.href);
  const endpoint = parseHubUrl(hubUrl);
  const tls = createPinnedTls(certPem, fingerprint);
  const width = Math.max(4, String(count).length);
  /** @type {SwarmMachine[]} */
  const machines = [];
  let next = 0;
  let done = 0;
  const registerNext = async () => {
    while (next < count) {
      const index = next++;
      const name = `swarm-${String(index + 1).padStart(width, '0')}`;
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      try {
        await postRegistration(endpoint, tls, { token: apiKey, name, roles: ['web'], environments: [environment], publicKey: publicKeyPem, force: false });
      } catch (error) {
        const err = /** @type {Error & { code?: string }} */ (error);
        throw new Error(`registering ${name} failed (${err.code ?? 'error'}): ${err.message}`);
      }
      machines[index] = { name, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
      done += 1;
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, registerNext));
  return machines;
}
