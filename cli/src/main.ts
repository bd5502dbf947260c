#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CommanderError } from 'commander';
import { EXIT, type ExitCode } from '@cuttle/shared';
import { describeError, type ErrorReport } from './cli-error.js';
import { buildProgram } from './command-table.js';
import type { Io } from './context.js';
import { printError } from './output.js';

/** Commander exits that are not errors: --help, --version. */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stderrIsTty: process.stderr.isTTY === true,
    ...(process.stderr.columns === undefined ? {} : { stderrColumns: process.stderr.columns }),
    env: process.env,
    cwd: process.cwd(),
    now: () => performance.now(),
    wallClock: () => Date.now(),
    stdin: () => process.stdin,
  };
}

function readVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  if (typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string') return manifest.version;
  return '0.0.0';
}

/** --json anywhere before a `--`: errors are then printed as JSON too, even commander's own. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function commanderReport(error: CommanderError): ErrorReport {
  const message = error.message.replace(/^error:\s*/i, '');
  if (error.code === 'commander.help' || error.code === 'commander.executeSubCommandAsync') {
    return { exitCode: EXIT.usage, code: 'usage', message: 'a command is needed; see the list above or cuttle --help' };
  }
  return { exitCode: EXIT.usage, code: 'usage', message, details: { reason: error.code } };
}

async function main(argv: readonly string[]): Promise<ExitCode> {
  const io = processIo();
  const json = wantsJson(argv);
  const interrupt = new AbortController();
  process.once('SIGINT', () => interrupt.abort());
  process.once('SIGTERM', () => interrupt.abort());
  // `cuttle packages | head`: a closed stdout is not worth a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
  });

  const program = buildProgram({ io, version: readVersion(), signal: interrupt.signal });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError && COMMANDER_SUCCESS.has(error.code)) return EXIT.ok;
    const report = error instanceof CommanderError ? commanderReport(error) : describeError(error);
    printError(io, report, json);
    return report.exitCode;
  }
}

// An operation that never settles would otherwise end the process with 0 once the loop is empty.
let settled = false;
process.on('beforeExit', () => {
  if (settled) return;
  process.stderr.write('error: the command stopped without finishing (internal)\n');
  process.exit(EXIT.failed);
});

// The only place that ends the process with an exit code.
main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exit(code);
  },
  (error: unknown) => {
    settled = true;
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)} (internal)\n`);
    process.exit(EXIT.failed);
  },
);
