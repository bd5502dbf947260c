import http from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { ApiKeyRepository } from './api-keys/api-key-repository.js';
import { ApiKeyService } from './api-keys/api-key-service.js';
import { systemClock, type Clock } from './clock.js';
import { DEFAULTS, type HubConfig } from './config.js';
import { openDatabase } from './db/open-database.js';
import { createDeployments } from './deployments/deployments-module.js';
import { EnvironmentRepository } from './environments/environment-repository.js';
import { EnvironmentService } from './environments/environment-service.js';
import { createTentacleGateway } from './gateway/tentacle-server.js';
import { createApp } from './http/app.js';
import { ConnectionRegistry } from './machines/connection-registry.js';
import { MachineRepository } from './machines/machine-repository.js';
import { MachineService } from './machines/machine-service.js';
import { RegistrationService } from './machines/registration-service.js';
import { RegistrationTokenRepository } from './machines/registration-token-repository.js';
import { InboxWatcher } from './packages/inbox-watcher.js';
import { PackageRepository } from './packages/package-repository.js';
import { PackageService } from './packages/package-service.js';
import { PackageStore } from './packages/package-store.js';
import { ProjectRepository } from './projects/project-repository.js';
import { ProjectService } from './projects/project-service.js';
import { loadOrCreateTls } from './tls/certificate.js';
import { DeploymentVariableSource } from './variables/deployment-variable-source.js';
import { loadMasterKey } from './variables/master-key.js';
import { VariableRepository } from './variables/variable-repository.js';
import { VariableService } from './variables/variable-service.js';
import { hubVersion } from './version.js';

export interface RunningHub {
  port: number;
  tentaclePort: number;
  fingerprint: string;
  /** Set when the database was new and the first admin key was generated: show it once. */
  generatedAdminKey: string | null;
  close(): Promise<void>;
}

export interface HubDeps {
  log: Logger;
  clock?: Clock;
}

/** Opens storage, builds the services and both listeners, and starts listening. */
export async function startHub(config: HubConfig, deps: HubDeps): Promise<RunningHub> {
  const { log } = deps;
  const clock = deps.clock ?? systemClock;
  mkdirSync(config.dataDir, { recursive: true });
  // Before anything touches the folder: a second hub would wipe this one's tmp/ and collect its blobs.
  const releaseLock = lockDataFolder(config.dataDir);
  // Run in reverse order on close. The inbox stops after both listeners (no new work arrives)
  // and before the database, which closes last of all but the lock.
  let closeables: Array<() => Promise<void> | void> = [releaseLock];
  let inbox: InboxWatcher | null = null;
  try {
    const { db } = openDatabase(path.join(config.dataDir, 'cuttle.db'));
    closeables.push(() => void db.close());
    closeables.push(() => inbox?.stop());
    const apiKeys = new ApiKeyService(new ApiKeyRepository(db), clock);

    // Before any service: a missing or wrong master key stops the start here, with nothing else changed.
    const variableRepository = new VariableRepository(db);
    const box = loadMasterKey({ dataDir: config.dataDir, envKey: config.masterKey ?? null }, variableRepository, clock().toISOString(), log);

    const environments = new EnvironmentService(new EnvironmentRepository(db), clock);
    const connections = new ConnectionRegistry();
    const machineRepository = new MachineRepository(db);
    const machines = new MachineService(machineRepository, environments, connections, clock, log);

    const projectRepository = new ProjectRepository(db);
    const store = new PackageStore(path.join(config.dataDir, 'packages'), path.join(config.dataDir, 'tmp'), path.join(config.dataDir, 'trash'));
    store.init();
    // background deletions end before the data folder is let go (the lock is released after this)
    closeables.push(() => store.settled());
    const packages = new PackageService(
      new PackageRepository(db),
      store,
      {
        maxPackageSize: config.maxPackageSize,
        uploadIdleTimeoutMs: config.uploadIdleTimeoutMs,
        zipLimits: config.zipLimits,
        keepPackageVersions: config.keepPackageVersions,
      },
      clock,
      log,
      (id, version) => projectRepository.isPackageUsed(id, version),
    );
    const variables = new VariableService(variableRepository, projectRepository, environments, machines, box, clock, log);
    const projects = new ProjectService(projectRepository, packages, clock, log, variables);
    const orphans = packages.collectGarbage();
    if (orphans > 0) log.warn({ removed: orphans }, 'removed package files no package refers to');

    const registration = new RegistrationService(new RegistrationTokenRepository(db), machineRepository, environments, apiKeys, connections, clock, log);

    const version = hubVersion();
    const tls = await loadOrCreateTls(config.dataDir, config.tlsCertFile, config.tlsKeyFile);
    const gateway = createTentacleGateway({
      tls,
      machines,
      registration,
      connections,
      hubVersion: version,
      log,
      packageFile: (sha256) => store.blobPath(sha256),
      transferReconnectGraceMs: config.transferReconnectGraceMs,
      maxConcurrentTransfers: config.maxConcurrentTransfers,
    });
    const tentacleServer = gateway.server;
    const { deployments, tasks, history, runner } = createDeployments({
      db,
      projects,
      environments,
      machines,
      jobs: gateway.jobs,
      clock,
      logger: log,
      variables: new DeploymentVariableSource(variables, environments, machines),
    });
    let tentaclePort = 0;

    const app = createApp({
      apiKeys,
      packages,
      environments,
      machines,
      registration,
      projects,
      variables,
      deployments,
      tasks,
      history,
      log,
      version,
      hubInfo: () => ({ tentaclePort, fingerprint: tls.fingerprint }),
      maxPackageSize: config.maxPackageSize,
      jsonBodyLimit: DEFAULTS.jsonBodyLimit,
    });
    // requestTimeout 0: a large upload on a slow link must not be cut off (stalls are caught per upload).
    const apiServer = http.createServer({ requestTimeout: 0, headersTimeout: DEFAULTS.headersTimeoutMs }, app);

    const port = await listen(apiServer, config.port, config.host, '--port');
    closeables.push(() => closeServer(apiServer));
    tentaclePort = await listen(tentacleServer, config.tentaclePort, config.host, '--tentacle-port');
    closeables.push(async () => {
      gateway.stop();
      await Promise.all([gateway.closeAll(), closeServer(tentacleServer)]);
    });
    // Runs before the connections close: a stopping hub records nothing more, so its running
    // tasks are left for the next start to mark interrupted, exactly as after a crash.
    closeables.push(() => runner.stop());
    const healthChecks = setInterval(() => void machines.healthCheckAll(), config.healthCheckIntervalMs);
    healthChecks.unref();
    closeables.push(() => clearInterval(healthChecks));

    const recovered = runner.recover(config.transferReconnectGraceMs);
    if (recovered.interrupted.length > 0 || recovered.started.length > 0) {
      log.warn({ interrupted: recovered.interrupted, started: recovered.started }, 'deployment tasks recovered after a restart');
    }

    inbox = new InboxWatcher(packages, { dir: config.inboxDir, overwriteMode: config.inboxOverwriteMode, settleMs: config.inboxSettleMs }, log);
    await inbox.start();

    const close = async () => {
      const steps = closeables.reverse();
      closeables = [];
      for (const step of steps) await step();
    };
    // Only now that both listeners are up: a start that fails never makes a key nobody saw.
    const seeded = apiKeys.seedAdminKey(config.adminApiKey);
    if (!seeded && config.adminApiKey !== null && apiKeys.authenticate(config.adminApiKey) === null) {
      log.warn('CUTTLE_ADMIN_API_KEY is not a key of this hub and is ignored: it only seeds the first admin key of a new database');
    }
    return { port, tentaclePort, fingerprint: tls.fingerprint, generatedAdminKey: seeded?.generated ? seeded.key : null, close };
  } catch (error) {
    for (const step of closeables.reverse()) await step();
    throw error;
  }
}

export const LOCK_FILE = 'hub.lock';

/**
 * Takes `<data>/hub.lock` (created with `wx`, holding our PID) and returns its release. A lock
 * whose PID is alive refuses the start; one left by a process that is gone is replaced. A lock
 * holding our own PID is stale too: it is what a restarted container (same PID) finds.
 */
function lockDataFolder(dataDir: string): () => void {
  const lockPath = path.join(dataDir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lockPath, mine, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8') === mine) rmSync(lockPath, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: number;
    try {
      holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    } catch {
      continue; // removed meanwhile: try again
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isProcessAlive(holder)) {
      throw new Error(`another hub (pid ${holder}) uses this data folder ${dataDir}; stop it, or give this one another --data (lock file ${lockPath})`);
    }
    rmSync(lockPath, { force: true }); // stale: its hub is gone
  }
  throw new Error(`could not take the lock file ${lockPath}; is another hub starting on the same data folder?`);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listen(server: http.Server | https.Server, port: number, host: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new Error(`${host}:${port} is in use by another program; choose another port with ${flag} (0 picks a free one)`));
      else if (error.code === 'EACCES') reject(new Error(`not allowed to listen on ${host}:${port}; use a port above 1023 with ${flag}`));
      else reject(error);
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server | https.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    // uploads in flight get a moment to finish, then are cut
    setTimeout(() => server.closeAllConnections(), 5_000).unref();
  });
}

