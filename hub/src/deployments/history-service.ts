import type { Logger } from 'pino';
import type {
  Dashboard,
  InstalledApp,
  Machine,
  MachineRelease,
  Project,
  ProjectEnvironment,
  StatusRow,
} from '@cuttle/shared';
import type { Clock } from '../clock.js';
import type { EnvironmentService } from '../environments/environment-service.js';
import type { MachineService } from '../machines/machine-service.js';
import type { ProjectService } from '../projects/project-service.js';
import type { DeploymentRepository } from './deployment-repository.js';
import { driftOf } from './drift.js';
import type { MachineReleaseRecord, ReleaseHistoryRepository } from './release-history-repository.js';

type ProjectEnvironmentMachine = ProjectEnvironment['machines'][number];

/** Which release is on which machine: the record, what the disks report, and the views built on them. */
export class HistoryService {
  constructor(
    private readonly history: ReleaseHistoryRepository,
    private readonly deployments: DeploymentRepository,
    private readonly projects: ProjectService,
    private readonly environments: EnvironmentService,
    private readonly machines: MachineService,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** A tentacle reported what is current on its disk (after every hello). */
  recordInventory(machine: string, apps: InstalledApp[]): void {
    try {
      this.history.replaceInventory(machine, apps, this.clock().toISOString());
    } catch (error) {
      this.logger.error({ err: error, machine }, 'storing a tentacle inventory failed');
    }
  }

  /** `GET /machines/{name}/releases`: per project and environment, the release current on the machine. */
  machineReleases(name: string): MachineRelease[] {
    const machine = this.machines.get(name);
    return this.history.releasesOfMachine(machine.name).map((record) => this.toMachineRelease(record));
  }

  /** `GET /projects/{name}/environments/{env}`: each machine the project's steps target there. */
  projectEnvironment(projectName: string, environmentName: string): ProjectEnvironment {
    const project = this.projects.get(projectName);
    const environment = this.environments.get(environmentName);
    return { project: project.name, environment: environment.name, machines: this.machinesOf(project, environment.name, this.machines.list({ environment: environment.name })) };
  }

  /** `GET /dashboard`: projects (by name) x environments (in their order), the latest deployment of each. */
  dashboard(): Dashboard {
    const environments = this.environments.list().map((e) => e.name);
    return {
      environments,
      projects: this.projects.list().map((project) => ({
        project: project.name,
        environments: environments.map((environment) => ({
          environment,
          latest: this.deployments.latestDeployment(project.name, environment),
          lastSuccess: this.deployments.successfulReleases(project.name, environment)[0] ?? null,
        })),
      })),
    };
  }

  /**
   * `GET /status`: one row per project (by name), environment (in order) and machine (by name) that
   * the project targets there; a filter naming something that does not exist is an error.
   */
  status(filter: { project?: string | undefined; environment?: string | undefined; machine?: string | undefined }): StatusRow[] {
    const projects = filter.project === undefined ? this.projects.list() : [this.projects.get(filter.project)];
    const environments = filter.environment === undefined ? this.environments.list() : [this.environments.get(filter.environment)];
    const only = filter.machine === undefined ? null : this.machines.get(filter.machine).name.toLowerCase();
    const machinesIn = new Map(
      environments.map((e) => [e.name, this.machines.list({ environment: e.name }).filter((m) => only === null || m.name.toLowerCase() === only)]),
    );
    const rows: StatusRow[] = [];
    for (const project of projects) {
      for (const environment of environments) {
        for (const entry of this.machinesOf(project, environment.name, machinesIn.get(environment.name) ?? [])) {
          rows.push({
            project: project.name,
            environment: environment.name,
            machine: entry.machine,
            online: entry.online,
            release: entry.current?.release ?? null,
            deployedAt: entry.current?.deployedAt ?? null,
            taskId: entry.current?.taskId ?? null,
            drift: entry.current?.drift ?? { state: 'unknown', onDisk: null, reportedAt: null },
            lastAttempt: entry.lastAttempt,
          });
        }
      }
    }
    return rows;
  }

  /**
   * The machines of an environment that a project's steps target (a role in common) or that the
   * hub recorded a release of the project on, in the order given (by name).
   */
  private machinesOf(project: Project, environment: string, inEnvironment: Machine[]): ProjectEnvironmentMachine[] {
    const roles = new Set(project.steps.flatMap((s) => s.roles.map((r) => r.toLowerCase())));
    const records = new Map(this.history.releasesOf(project.name, environment).map((r) => [r.machine.toLowerCase(), r]));
    return inEnvironment
      .filter((m) => m.roles.some((r) => roles.has(r.toLowerCase())) || records.has(m.name.toLowerCase()))
      .map((machine) => {
        const record = records.get(machine.name.toLowerCase());
        return {
          machine: machine.name,
          online: machine.status === 'online',
          disabled: machine.disabled,
          roles: machine.roles,
          current: record ? this.toMachineRelease(record) : null,
          lastAttempt: this.deployments.lastAttempt(machine.name, project.name, environment),
        };
      });
  }

  private toMachineRelease(record: MachineReleaseRecord): MachineRelease {
    const app = this.history.inventoryApp(record.machine, record.project, record.environment, null);
    return {
      machine: record.machine,
      project: record.project,
      environment: record.environment,
      release: record.release,
      deploymentId: record.deploymentId,
      taskId: record.taskId,
      deployedAt: record.deployedAt,
      drift: driftOf(record, this.history.lastReport(record.machine), app),
    };
  }
}
