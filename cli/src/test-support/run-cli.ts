import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const repoDir = path.resolve(cliDir, '..');
export const CLI_MAIN = path.join(cliDir, 'dist', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds the CLI (`tsc -b cli`) when dist/main.js is missing or older than a source file. */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(CLI_MAIN).mtimeMs;
  } catch {
    built = 0;
  }
  if (built >= newestSource(path.join(cliDir, 'src'))) return;
  execFileSync(process.execPath, [path.join(repoDir, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'cli'], { cwd: repoDir, stdio: 'pipe' });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node cli/dist/main.js ...args` with a clean CUTTLE_* environment plus `env`; `input` is written to its stdin. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): Promise<CliRun> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('CUTTLE_')) env[name] = value;
  }
  Object.assign(env, options.env ?? {});
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: options.cwd ?? repoDir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    // Without input, stdin ends at once, like /dev/null; a CLI that exits before reading it is no error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
