#!/usr/bin/env node
import { parseHubArgs, USAGE } from './config.js';
import { startHub, type RunningHub } from './hub.js';
import { createLogger } from './logger.js';
import { hubVersion } from './version.js';

async function main(): Promise<void> {
  const parsed = parseHubArgs(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${hubVersion()}\n`);
    return;
  }
  if (parsed.kind === 'invalid') {
    process.stderr.write(`cuttle-hub: invalid configuration:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const { config } = parsed;
  const log = createLogger(config.logLevel);

  // Signal handlers go in before anything starts, so a signal at any moment stops cleanly.
  let hub: RunningHub | null = null;
  let stopRequested: string | null = null;
  const stop = (signal: string) => {
    if (stopRequested && hub === null) {
      // a second signal while stopping: stop waiting
      log.warn({ signal }, 'second signal: exiting now');
      log.flush();
      process.exit(1);
    }
    stopRequested = signal;
    if (hub === null) return; // startup finishes first, then stops
    const running = hub;
    hub = null;
    log.info({ signal }, 'stopping');
    running
      .close()
      .then(() => {
        log.info('stopped');
        log.flush();
        process.exitCode = 0;
      })
      .catch((error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exitCode = 1;
      })
      .finally(() => setTimeout(() => process.exit(), 50).unref());
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    hub = await startHub(config, { log });
  } catch (error) {
    log.fatal({ err: error }, 'hub failed to start');
    process.stderr.write(`cuttle-hub: failed to start: ${(error as Error).message}\n`);
    log.flush();
    process.exitCode = 1;
    setTimeout(() => process.exit(), 50).unref();
    return;
  }
  if (hub.generatedAdminKey) {
    // Shown once, on stderr (stdout carries only the ready line). It is stored hashed.
    process.stderr.write(
      `\n  A new admin API key was generated. It is shown only this once; keep it safe:\n\n    ${hub.generatedAdminKey}\n\n` +
        `  For the cuttle CLI:\n    export CUTTLE_HUB=http://${displayHost(config.host)}:${hub.port}\n    export CUTTLE_API_KEY=${hub.generatedAdminKey}\n\n`,
    );
  }
  log.info({ port: hub.port, tentaclePort: hub.tentaclePort, data: config.dataDir, inbox: config.inboxDir }, 'hub ready');
  process.stdout.write(`${JSON.stringify({ event: 'ready', port: hub.port, tentaclePort: hub.tentaclePort, fingerprint: hub.fingerprint })}\n`);
  if (stopRequested) stop(stopRequested);
}

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
}

void main();
