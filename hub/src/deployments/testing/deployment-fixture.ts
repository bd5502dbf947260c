import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DEFAULT_ZIP_LIMITS, type Release, type Step } from '@cuttle/shared';
import { ApiKeyRepository } from '../../api-keys/api-key-repository.js';
import { ApiKeyService } from '../../api-keys/api-key-service.js';
import { openDatabase, type Db } from '../../db/open-database.js';
import { EnvironmentRepository } from '../../environments/environment-repository.js';
import { EnvironmentService } from '../../environments/environment-service.js';
import { createApp } from '../../http/app.js';
import { ConnectionRegistry, type TentacleSession } from '../../machines/connection-registry.js';
import { MachineRepository } from '../../machines/machine-repository.js';
import { MachineService } from '../../machines/machine-service.js';
import { RegistrationService } from '../../machines/registration-service.js';
import { RegistrationTokenRepository } from '../../machines/registration-token-repository.js';
import { PackageRepository } from '../../packages/package-repository.js';
import { PackageService } from '../../packages/package-service.js';
import { PackageStore } from '../../packages/package-store.js';
import { ProjectRepository } from '../../projects/project-repository.js';
import { ProjectService } from '../../projects/project-service.js';
import { DeploymentVariableSource } from '../../variables/deployment-variable-source.js';
import { loadMasterKey } from '../../variables/master-key.js';
import { VariableRepository } from '../../variables/variable-repository.js';
import { VariableService } from '../../variables/variable-service.js';
import { createDeployments, type Deployments } from '../deployments-module.js';
import { FakeTentacleJobs } from './fake-tentacle-jobs.js';
import type { TaskLogLimits } from '../task-log-limits.js';

/**
 * Test support: a hub's services on a real SQLite database in a temp folder, with a fake
 * TentacleJobs in place of the gateway. `restart()` opens the same database again as a new hub would.
 */
export class DeploymentFixture {
  readonly dir: string;
  db!: Db;
  jobs!: FakeTentacleJobs;
  connections!: ConnectionRegistry;
  environments!: EnvironmentService;
  machineRepo!: MachineRepository;
  machines!: MachineService;
  projects!: ProjectService;
  variables!: VariableService;
  packages!: PackageService;
  packageRepo!: PackageRepository;
  apiKeys!: ApiKeyService;
  registration!: RegistrationService;
  area!: Deployments;
  adminKey = 'test-admin-key-0123456789';
  private server: Server | null = null;
  private readonly log = pino({ level: 'silent' });
  private tick = 0;
  /** Each reading is a millisecond after the last, so ordering by time is stable. */
  readonly clock = () => new Date(Date.UTC(2026, 0, 1) + this.tick++);

  constructor(private readonly options: { logLimits?: TaskLogLimits } = {}) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'cuttle-deploy-'));
    this.open();
  }

  get deployments() {
    return this.area.deployments;
  }
  get tasks() {
    return this.area.tasks;
  }
  get history() {
    return this.area.history;
  }
  get runner() {
    return this.area.runner;
  }

  environment(...names: string[]): void {
    for (const name of names) this.environments.create({ name });
  }

  machine(name: string, roles: string[], environments: string[], options: { online?: boolean; disabled?: boolean } = {}): void {
    const ids = this.environments.resolve(environments).map((e) => e.id);
    const id = this.machineRepo.insert({ name, publicKey: 'unused', roles, registeredAt: this.clock().toISOString() }, ids);
    if (options.disabled) this.machineRepo.setDisabled(id, true);
    this.setOnline(name, options.online ?? true);
  }

  /** Online for the runner (jobs) and for the API (a connection in the registry). */
  setOnline(name: string, online: boolean): void {
    this.jobs.setOnline(name, online);
    const current = this.connections.get(name);
    if (online && !current) {
      const session: TentacleSession = { machineName: name, connectedAt: new Date(), close: () => undefined, healthCheck: () => Promise.reject(new Error('not in tests')) };
      this.connections.add(session);
    } else if (!online && current) {
      this.connections.remove(current);
    }
  }

  /** A project, and a package version for every package its steps deploy. */
  project(name: string, steps: Step[], variableSets?: string[]): void {
    this.projects.put(name, { steps, ...(variableSets ? { variableSets } : {}) });
  }

  pkg(id: string, version: string): void {
    this.packageRepo.upsert({ id, version, sha256: 'a'.repeat(64), size: 1234, uploadedAt: this.clock().toISOString(), uploadedBy: null });
  }

  release(project: string, version: string, packages?: Record<string, string>): Release {
    return this.projects.createRelease(project, { version, ...(packages ? { packages } : {}) }, 'tester');
  }

  /** Starts the real HTTP app on 127.0.0.1, port 0; returns its base URL. */
  async listen(): Promise<string> {
    const app = createApp({
      apiKeys: this.apiKeys,
      packages: this.packages,
      environments: this.environments,
      machines: this.machines,
      registration: this.registration,
      projects: this.projects,
      variables: this.variables,
      deployments: this.deployments,
      tasks: this.tasks,
      history: this.history,
      log: this.log,
      version: 'test',
      hubInfo: () => ({ tentaclePort: 0, fingerprint: 'none' }),
      maxPackageSize: 1024 * 1024,
      jsonBodyLimit: 64 * 1024,
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Stops this "hub" without recording anything more and opens the database again, as after a restart. */
  restart(): void {
    this.runner.stop();
    this.db.close();
    this.open();
  }

  async close(): Promise<void> {
    this.runner.stop();
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise((resolve) => this.server!.close(resolve));
    }
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private open(): void {
    const clock = this.clock;
    const online = this.jobs ? [...(this.connections?.all() ?? [])].map((s) => s.machineName) : [];
    this.db = openDatabase(path.join(this.dir, 'cuttle.db')).db;
    this.jobs = new FakeTentacleJobs();
    this.connections = new ConnectionRegistry();
    for (const name of online) this.setOnline(name, true);
    this.apiKeys = new ApiKeyService(new ApiKeyRepository(this.db), clock);
    this.apiKeys.seedAdminKey(this.adminKey);
    this.environments = new EnvironmentService(new EnvironmentRepository(this.db), clock);
    this.machineRepo = new MachineRepository(this.db);
    this.machines = new MachineService(this.machineRepo, this.environments, this.connections, clock, this.log);
    this.registration = new RegistrationService(new RegistrationTokenRepository(this.db), this.machineRepo, this.environments, this.apiKeys, this.connections, clock, this.log);
    const projectRepo = new ProjectRepository(this.db);
    this.packageRepo = new PackageRepository(this.db);
    const store = new PackageStore(path.join(this.dir, 'packages'), path.join(this.dir, 'tmp'), path.join(this.dir, 'trash'));
    store.init();
    this.packages = new PackageService(
      this.packageRepo,
      store,
      { maxPackageSize: 1024 * 1024, uploadIdleTimeoutMs: 10_000, zipLimits: DEFAULT_ZIP_LIMITS, keepPackageVersions: null },
      clock,
      this.log,
      (id, version) => projectRepo.isPackageUsed(id, version),
    );
    const variableRepo = new VariableRepository(this.db);
    // the key is made in the temp folder on first open and read back after a restart
    const box = loadMasterKey({ dataDir: this.dir, envKey: null }, variableRepo, clock().toISOString(), this.log);
    this.variables = new VariableService(variableRepo, projectRepo, this.environments, this.machines, box, clock, this.log);
    this.projects = new ProjectService(projectRepo, this.packages, clock, this.log, this.variables);
    this.area = createDeployments({
      db: this.db,
      projects: this.projects,
      environments: this.environments,
      machines: this.machines,
      jobs: this.jobs,
      clock,
      logger: this.log,
      variables: new DeploymentVariableSource(this.variables, this.environments, this.machines),
      ...(this.options.logLimits ? { logLimits: this.options.logLimits } : {}),
    });
  }
}
