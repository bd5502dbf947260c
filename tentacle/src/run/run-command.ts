import path from 'node:path';
import { parseFlags, usage } from '../cli/args.js';
import type { ConnectionStateChange } from '../agent/connection-options.js';
import { TentacleConnection } from '../agent/tentacle-connection.js';
import { Deployer } from '../deploy/deployer.js';
import { loadRegisteredHome } from '../home/registered-home.js';
import type { Logger } from '../log/logger.js';

const RUN_FLAGS = { home: 'string' } as const;

export interface RunIo {
  env: NodeJS.ProcessEnv;
  log: Logger;
  version: string;
}

export interface Running {
  connection: TentacleConnection;
  deployer: Deployer;
  log: Logger;
}

/**
 * `cuttle-tentacle run`: loads the registered home (keys, pinned certificate, tentacle.json)
 * once, recovers from deployments a crash interrupted, and returns the started connection with
 * its deployer. The caller (main) owns signals and the exit.
 */
export async function runCommand(argv: readonly string[], io: RunIo): Promise<Running> {
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
  const deployer = new Deployer({ home: registered.home, log: log.child({ component: 'deploy' }) });
  const recovered = await deployer.recover();
  if (recovered.removedFolders.length > 0 || recovered.settled.length > 0 || recovered.killedScripts.length > 0) {
    log.info('recovered from interrupted deployments', {
      killedScripts: recovered.killedScripts.length,
      removedFolders: recovered.removedFolders.length,
      settled: recovered.settled,
    });
  }
  const connection = new TentacleConnection({
    identity: { name: registered.config.name, privateKey: registered.privateKey },
    hubUrl: registered.config.hubUrl,
    tls: registered.tls,
    log,
    version: io.version,
    homeDir: registered.home,
    onStateChange: (change: ConnectionStateChange) => log.debug('connection state', { ...change }),
    jobs: deployer,
  });
  connection.start();
  return { connection, deployer, log };
}
