import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const HUB_BIN = path.join(REPO_ROOT, 'hub/dist/main.js');
/** The `cuttle` binary as installed: its launcher and the bundle `npm run build` makes. */
export const CLI_BIN = path.join(REPO_ROOT, 'cli/bin/cuttle.js');
export const TENTACLE_BIN = path.join(REPO_ROOT, 'tentacle/dist/main.js');

export const ADMIN_KEY = 'cuttle-e2e-admin-key-0123456789abcdef';

export async function makeTempDir(prefix = 'cuttle-e2e-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface ReadyLine {
  event: 'ready';
  port: number;
  tentaclePort: number;
  fingerprint: string;
}

export interface HubProcess {
  child: ChildProcess;
  ready: ReadyLine;
  url: string;
  dataDir: string;
  adminKey: string;
  stdoutLines: string[];
  stderr: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export interface StartHubOptions {
  dataDir: string;
  args?: string[];
  env?: Record<string, string>;
  adminKey?: string | null;
  /** Fixed ports (for a restart on the same ports); default 0 for both. */
  ports?: { port: number; tentaclePort: number };
}

/** Starts the built cuttle-hub on loopback, ports 0, and waits for its ready line. */
export async function startHubProcess(options: StartHubOptions): Promise<HubProcess> {
  const adminKey = options.adminKey === undefined ? ADMIN_KEY : options.adminKey;
  const env: NodeJS.ProcessEnv = { ...process.env, CUTTLE_LOG_LEVEL: 'warn', ...options.env };
  if (adminKey !== null) env.CUTTLE_ADMIN_API_KEY = adminKey;
  else delete env.CUTTLE_ADMIN_API_KEY;
  const child = spawn(
    process.execPath,
    [
      HUB_BIN,
      ...['--data', options.dataDir, '--host', '127.0.0.1'],
      ...['--port', String(options.ports?.port ?? 0), '--tentacle-port', String(options.ports?.tentaclePort ?? 0)],
      ...(options.args ?? []),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const stdoutLines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`hub did not get ready in 30 s; stderr:\n${stderr}`)), 30_000);
    lines.on('line', (line) => {
      stdoutLines.push(line);
      try {
        const parsed = JSON.parse(line) as ReadyLine;
        if (parsed.event === 'ready') {
          clearTimeout(timer);
          resolve(parsed);
        }
      } catch {
        /* not JSON: kept in stdoutLines for the test to look at */
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before ready; stderr:\n${stderr}`));
    });
  });
  return {
    child,
    ready,
    url: `http://127.0.0.1:${ready.port}`,
    dataDir: options.dataDir,
    adminKey: adminKey ?? '',
    stdoutLines,
    stderr: () => stderr,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built binary to completion and collects its output. */
function runToEnd(bin: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: options.env ?? process.env, cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the built cuttle CLI and collects its output. */
export function runCli(args: string[], options: { hub?: string; apiKey?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.CUTTLE_HUB;
  delete env.CUTTLE_API_KEY;
  if (options.hub) env.CUTTLE_HUB = options.hub;
  if (options.apiKey) env.CUTTLE_API_KEY = options.apiKey;
  return runToEnd(CLI_BIN, args, { env, ...(options.cwd ? { cwd: options.cwd } : {}) });
}

/** Polls until check returns a value other than undefined, or fails after timeoutMs. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface TentacleProcess {
  child: ChildProcess;
  stderr: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Runs the built cuttle-tentacle to completion (register). */
export function runTentacle(args: string[]): Promise<RunResult> {
  return runToEnd(TENTACLE_BIN, args);
}

export function startTentacle(home: string): TentacleProcess {
  const child = spawn(process.execPath, [TENTACLE_BIN, 'run', '--home', home], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
