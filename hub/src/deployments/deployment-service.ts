import type { Logger } from 'pino';
import { CuttleError, type CreateDeploymentRequest, type Deployment, type RollbackRequest } from '@cuttle/shared';
import type { Clock } from '../clock.js';
import type { EnvironmentService } from '../environments/environment-service.js';
import type { MachineService } from '../machines/machine-service.js';
import type { ProjectService } from '../projects/project-service.js';
import type { DeploymentRecord, DeploymentRepository } from './deployment-repository.js';
import { planTargets } from './job-builder.js';
import { chooseRollback } from './rollback-choice.js';
import type { TaskLog } from './task-log.js';
import type { TaskRunner } from './task-runner.js';

export const DEFAULT_LIST_LIMIT = 100;

export const toDeployment = (record: DeploymentRecord): Deployment => ({
  id: record.id,
  taskId: record.taskId,
  project: record.project,
  release: record.release,
  environment: record.environment,
  machines: record.machines,
  skipOffline: record.skipOffline,
  rollbackFrom: record.rollbackFrom,
  createdAt: record.createdAt,
  createdBy: record.createdBy,
});

/** Creates deployments (and rollbacks) as tasks and hands them to the runner. */
export class DeploymentService {
  constructor(
    private readonly repo: DeploymentRepository,
    private readonly projects: ProjectService,
    private readonly environments: EnvironmentService,
    private readonly machines: MachineService,
    private readonly runner: TaskRunner,
    private readonly log: TaskLog,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /**
   * Checks the request, plans the targets (enabled machines of the environment, or of those named,
   * with a role of a step), stores the task as queued and starts it.
   */
  create(request: CreateDeploymentRequest, createdBy: string | null, rollbackFrom: string | null = null): Deployment {
    const project = this.projects.get(request.project);
    const release = this.projects.getRelease(project.name, request.release);
    const environment = this.environments.get(request.environment);
    let candidates = this.machines.list({ environment: environment.name });
    let named: string[] | null = null;
    if (request.machines !== undefined) {
      const byName = new Map(candidates.map((m) => [m.name.toLowerCase(), m]));
      const outside = [...new Set(request.machines)].filter((name) => !byName.has(name.toLowerCase()));
      if (outside.length > 0) {
        throw new CuttleError(
          'machine-not-in-environment',
          `${outside.map((n) => `"${n}"`).join(', ')} ${outside.length === 1 ? 'is' : 'are'} not a machine of environment ${environment.name}.`,
          { environment: environment.name, machines: outside },
        );
      }
      const chosen = new Set(request.machines.map((n) => n.toLowerCase()));
      candidates = candidates.filter((m) => chosen.has(m.name.toLowerCase()));
      named = candidates.map((m) => m.name);
    }
    const plan = planTargets(
      release.steps,
      candidates.filter((m) => !m.disabled),
    );
    if (plan.length === 0) {
      const roles = [...new Set(release.steps.flatMap((s) => s.roles))];
      throw new CuttleError(
        'no-matching-machines',
        `No enabled machine of environment ${environment.name}${named ? ` among ${named.join(', ')}` : ''} has a role that a step of ${project.name} ${release.version} runs on (${roles.join(', ')}).`,
        { environment: environment.name, roles, ...(named ? { machines: named } : {}) },
      );
    }

    const createdAt = this.clock().toISOString();
    const description =
      rollbackFrom === null
        ? `Deploy ${project.name} ${release.version} to ${environment.name}`
        : `Roll back ${project.name} in ${environment.name} from ${rollbackFrom} to ${release.version}`;
    const { deploymentId, taskId } = this.repo.transaction(() => {
      const ids = this.repo.insert({
        description,
        project: project.name,
        release: release.version,
        environment: environment.name,
        machines: named,
        skipOffline: request.skipOffline ?? false,
        rollbackFrom,
        steps: release.steps,
        packages: release.packages,
        createdAt,
        createdBy,
        targets: plan,
      });
      this.log.hub(ids.taskId, `${description}: queued${createdBy === null ? '' : ` by ${createdBy}`}, ${plan.length} target${plan.length === 1 ? '' : 's'}`);
      return ids;
    });
    this.logger.info({ deploymentId, taskId, project: project.name, release: release.version, environment: environment.name, targets: plan.length }, 'deployment queued');
    this.runner.start(taskId);
    return this.get(deploymentId);
  }

  /**
   * Deploys again the release before the current one (the rule is in chooseRollback). The choice
   * looks at the whole environment, also when `machines` narrows the rollback to some machines.
   */
  rollback(request: RollbackRequest, createdBy: string | null): Deployment {
    const project = this.projects.get(request.project);
    const environment = this.environments.get(request.environment);
    const { current, target: previous } = chooseRollback(this.repo.deploymentOutcomes(project.name, environment.name));
    if (current === null || previous === null) {
      throw new CuttleError(
        'no-previous-release',
        current === null
          ? `${project.name} has never been deployed successfully to ${environment.name}, so there is nothing to roll back to.`
          : `${project.name} ${current} is current in ${environment.name} and no earlier release was deployed successfully there (releases already rolled away from do not count), so there is nothing to roll back to.`,
        { project: project.name, environment: environment.name, current },
      );
    }
    return this.create(
      {
        project: project.name,
        release: previous,
        environment: environment.name,
        ...(request.machines ? { machines: request.machines } : {}),
        ...(request.skipOffline !== undefined ? { skipOffline: request.skipOffline } : {}),
      },
      createdBy,
      current,
    );
  }

  get(id: number): Deployment {
    const record = this.repo.findDeployment(id);
    if (!record) throw new CuttleError('deployment-not-found', `No deployment has id ${id}.`, { id });
    return toDeployment(record);
  }

  /** Newest first. Unknown project or environment names simply match nothing. */
  list(filter: { project?: string | undefined; environment?: string | undefined; limit?: number | undefined }): Deployment[] {
    return this.repo.listDeployments({ ...filter, limit: filter.limit ?? DEFAULT_LIST_LIMIT }).map(toDeployment);
  }
}
