import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const TENTACLE_BIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(TENTACLE_BIN)) throw new Error(`${TENTACLE_BIN} is missing: build first with "npx tsc -b tentacle"`);
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `cuttle-tentacle` child process; stop() kills it by its PID if it still runs. */
export class TentacleProcess {
  stdout = '';
  stderr = '';
  exitInfo: ExitInfo | undefined;
  readonly child: ChildProcess;
  private readonly exited: Promise<ExitInfo>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    const { CUTTLE_TENTACLE_HOME: _ignored, ...inherited } = process.env;
    this.child = spawn(process.execPath, [TENTACLE_BIN, ...args], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString('utf8');
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the process did not start');
    return this.child.pid;
  }

  exit(): Promise<ExitInfo> {
    return this.exited;
  }

  /** The JSON log lines written to stderr so far. */
  logLines(): Array<Record<string, unknown>> {
    return this.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  async waitForLog(msg: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.logLines().some((line) => line.msg === msg), timeoutMs, `log "${msg}"`);
  }

  async stop(): Promise<void> {
    if (this.exitInfo === undefined && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await this.exited;
    }
  }
}

/** Runs the binary to completion. */
export async function runTentacle(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<TentacleProcess & { exitInfo: ExitInfo }> {
  const proc = new TentacleProcess(args, env);
  const timer = setTimeout(() => void proc.stop(), timeoutMs);
  await proc.exit();
  clearTimeout(timer);
  return proc as TentacleProcess & { exitInfo: ExitInfo };
}
