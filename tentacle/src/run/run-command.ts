import path from 'node:path';
import { parseFlags, usage } from '../cli/args.js';
import type { ConnectionStateChange } from '../agent/connection-options.js';
import { TentacleConnection } from '../agent/tentacle-connection.js';
import { loadRegisteredHome } from '../home/registered-home.js';
import type { Logger } from '../log/logger.js';

const RUN_FLAGS = { home: 'string' } as const;

export interface RunIo {
  env: NodeJS.ProcessEnv;
  log: Logger;
  version: string;
}

/**
 * `cuttle-tentacle run`: loads the registered home (keys, pinned certificate, tentacle.json)
 * once and returns the started connection. The caller (main) owns signals and the exit.
 */
export async function runCommand(argv: readonly string[], io: RunIo): Promise<{ connection: TentacleConnection; log: Logger }> {
  const flags = parseFlags(argv, RUN_FLAGS, 'run');
  const homeValue = flags.home ?? io.env.CUTTLE_TENTACLE_HOME;
  if (homeValue === undefined || homeValue === '') throw usage('run', '--home (or CUTTLE_TENTACLE_HOME) is required');
  const registered = await loadRegisteredHome(path.resolve(homeValue));
  const log = io.log.child({ machine: registered.config.name });
  log.info('tentacle starting', {
    version: io.version,
    hub: registered.config.hubUrl,
    hubFingerprint: registered.config.hubFingerprint,
    home: registered.home,
  });
  const connection = new TentacleConnection({
    identity: { name: registered.config.name, privateKey: registered.privateKey },
    hubUrl: registered.config.hubUrl,
    tls: registered.tls,
    log,
    version: io.version,
    homeDir: registered.home,
    onStateChange: (change: ConnectionStateChange) => log.debug('connection state', { ...change }),
  });
  connection.start();
  return { connection, log };
}
