#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { EXIT, PROTOCOL_VERSION } from '@cuttle/shared';
import { createJsonLogger, isLogLevel } from './log/logger.js';
import { registerCommand } from './register/register-command.js';
import { runCommand, type Running } from './run/run-command.js';
import { TentacleError } from './tentacle-error.js';

const USAGE = `Usage: cuttle-tentacle <command> [options]

The Cuttle agent on a target server: keeps one outbound TLS websocket to the hub and
installs the releases the hub sends it: packages are received into a cache, extracted into
<home>/apps/<project>/<environment>/releases/, their deploy scripts run, and \`current\` switched.

Commands:
  register --hub URL --token TOKEN --name NAME --roles r1,r2 --environments Test[,Staging] --home DIR
           [--hub-fingerprint sha256:AB:CD:...] [--trust-on-first-use] [--force]
      Register this machine with a hub. URL is the hub's tentacle port (wss://host:10943).
      Creates an EC P-256 key pair in --home (reused when present), checks the hub's
      certificate against --hub-fingerprint (or, with --trust-on-first-use, trusts and prints
      it), and pins it for every later connection. --force re-registers an existing name
      (needs an admin token).
  run --home DIR
      Connect to the hub, keep the connection up and run its deployments (logs JSON lines on
      stderr; SIGTERM or SIGINT stops it cleanly and kills running deploy scripts). Reconnects
      by itself with backoff. At start, cleans up after deployments a crash interrupted
      (and ends the deploy scripts a killed tentacle left running).

--home may also come from CUTTLE_TENTACLE_HOME. CUTTLE_TENTACLE_LOG_LEVEL sets the log level
of run (debug, info, warn, error; default info).

Options:
  -h, --help              show this help
  -v, --version           show the version

Exit codes: 0 success, 1 the operation failed (hub refused, fingerprint mismatch),
2 usage or local setup error (not registered), 3 the hub could not be reached.
Protocol version ${PROTOCOL_VERSION}.
`;

/** How long a stop may take before the process leaves anyway. */
const SHUTDOWN_GRACE_MS = 2_000;

function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function reportError(error: unknown): void {
  if (error instanceof TentacleError) {
    process.stderr.write(`error: ${error.message} (${error.code})\n`);
    process.exitCode = error.exitCode;
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${message} (internal)\n`);
  process.exitCode = EXIT.failed;
}

function runUntilSignalled({ connection, deployer, log }: Running): void {
  let stopping = false;
  // scripts run in their own process groups: whatever still runs at exit is killed with us
  process.on('exit', () => deployer.killScripts());
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    setTimeout(() => process.exit(EXIT.ok), SHUTDOWN_GRACE_MS).unref();
    Promise.all([connection.stop(), deployer.stop()]).then(
      () => {
        log.info('stopped');
        process.exit(EXIT.ok);
      },
      (error: unknown) => {
        log.error('stop failed', { err: error });
        process.exit(EXIT.failed);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  if (command === 'register') {
    await registerCommand(rest, { env: process.env, out: (line) => process.stdout.write(`${line}\n`) });
    return;
  }
  if (command === 'run') {
    const level = process.env.CUTTLE_TENTACLE_LOG_LEVEL ?? 'info';
    const log = createJsonLogger({
      write: (line) => process.stderr.write(line),
      level: isLogLevel(level) ? level : 'info',
      bindings: { service: 'cuttle-tentacle' },
    });
    const running = await runCommand(rest, { env: process.env, log, version: version() });
    runUntilSignalled(running);
    return;
  }
  process.stderr.write(`cuttle-tentacle: unknown command "${command}".\n\n${USAGE}`);
  process.exitCode = EXIT.usage;
}

main(process.argv.slice(2)).catch(reportError);
