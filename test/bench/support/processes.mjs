// Child processes and cleanup for the benchmarks: every process a benchmark starts is
// registered in a Scope, which stops it (SIGTERM, then SIGKILL after a grace period) on
// success, on failure and on Ctrl-C.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const HUB_BIN = path.join(REPO_ROOT, 'hub/dist/main.js');
/** The `cuttle` binary as installed: its launcher and the bundle `npm run build` makes. */
export const CLI_BIN = path.join(REPO_ROOT, 'cli/bin/cuttle.js');
/** What the launcher loads; missing until the first build. */
export const CLI_BUNDLE = path.join(REPO_ROOT, 'cli/dist/cuttle.js');

/** How long a child gets to exit after SIGTERM before it is sent SIGKILL. */
export const STOP_GRACE_MS = 5_000;
/** Only the tail of a child's stderr is kept (for error messages). */
const STDERR_TAIL_CHARS = 64 * 1024;

/** A wrong invocation of a benchmark: the runner prints it with the usage and exits 2. */
export class UsageError extends Error {}

/** Teardown steps run once, last registered first; steps registered after closing run at once. */
export class Scope {
  /** @type {Array<() => Promise<void> | void>} */
  #steps = [];
  /** @type {Promise<void> | undefined} */
  #closing;

  /** @param {() => Promise<void> | void} step */
  defer(step) {
    if (this.#closing) void this.#closing.then(step).catch(reportCleanupError);
    else this.#steps.push(step);
  }

  /** @returns {Promise<void>} */
  close() {
    this.#closing ??= (async () => {
      for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
        await Promise.resolve().then(step).catch(reportCleanupError);
      }
    })();
    return this.#closing;
  }
}

/** @param {unknown} error */
function reportCleanupError(error) {
  process.stderr.write(`cleanup: ${error instanceof Error ? error.message : String(error)}\n`);
}

/** The inherited environment without any CUTTLE_* variable, plus `extra`. */
export function cleanEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CUTTLE_')));
  return { ...env, ...extra };
}

/**
 * @typedef {object} Child
 * @property {import('node:child_process').ChildProcess} process
 * @property {number} pid
 * @property {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} exited
 * @property {string[]} stdoutLines
 * @property {() => string} stderr
 * @property {(listener: (line: string) => void) => void} onLine
 * @property {() => Promise<void>} stop
 */

/**
 * Starts `node <args>` with piped output and registers its stop in `scope`.
 * @param {Scope} scope
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, stdin?: 'ignore' | 'pipe' }} [options]  stdin: 'pipe' to write to the child (default 'ignore')
 * @returns {Child}
 */
export function spawnNode(scope, args, options = {}) {
  const common = { env: options.env ?? cleanEnv(), cwd: options.cwd ?? REPO_ROOT };
  const child =
    options.stdin === 'pipe'
      ? spawn(process.execPath, args, { ...common, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(process.execPath, args, { ...common, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => {
    child.once('error', () => resolve({ code: null, signal: null }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });
  /** @type {string[]} */
  const stdoutLines = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => stdoutLines.push(line));
  /** @type {Child} */
  const handle = {
    process: child,
    pid: child.pid ?? -1,
    exited,
    stdoutLines,
    stderr: () => stderr,
    onLine: (listener) => lines.on('line', listener),
    stop: () => stopChild(child, exited),
  };
  scope.defer(handle.stop);
  return handle;
}

/**
 * SIGTERM by PID, then SIGKILL if it has not exited after STOP_GRACE_MS.
 * @param {import('node:child_process').ChildProcess} child
 * @param {Promise<unknown>} exited
 */
async function stopChild(child, exited) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  signal(child.pid, 'SIGTERM');
  let timer;
  const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve(true), STOP_GRACE_MS)));
  const late = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    signal(child.pid, 'SIGKILL');
    await exited;
  }
}

/** @param {number} pid @param {NodeJS.Signals} name */
function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'ESRCH') throw error;
  }
}

/**
 * Waits for the first stdout line that is a JSON object with `event === eventName`.
 * @param {Child} child
 * @param {string} eventName
 * @param {string} what  name used in error messages
 * @param {number} [timeoutMs]
 * @returns {Promise<Record<string, unknown>>}
 */
export function waitForEvent(child, eventName, what, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not get ready in ${timeoutMs / 1000} s; stderr:\n${child.stderr()}`)), timeoutMs);
    /** @param {string} line */
    const check = (line) => {
      let parsed;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      if (parsed !== null && typeof parsed === 'object' && parsed.event === eventName) {
        clearTimeout(timer);
        resolve(parsed);
      }
    };
    child.stdoutLines.forEach(check);
    child.onLine(check);
    void child.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${signal ?? code}) before it was ready; stderr:\n${child.stderr()}`));
    });
  });
}
