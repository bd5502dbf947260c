import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Db } from '../db/open-database.js';
import type { EnvironmentService } from '../environments/environment-service.js';
import type { MachineService } from '../machines/machine-service.js';
import type { ProjectService } from '../projects/project-service.js';
import { DeploymentRepository } from './deployment-repository.js';
import { DeploymentService } from './deployment-service.js';
import { HistoryService } from './history-service.js';
import { MachineProjectLocks } from './machine-project-locks.js';
import { ReleaseHistoryRepository } from './release-history-repository.js';
import { TaskLogRepository } from './task-log-repository.js';
import { TaskLog } from './task-log.js';
import { TaskRunner } from './task-runner.js';
import { TaskService } from './task-service.js';
import type { TentacleJobs } from './tentacle-jobs.js';
import type { DeploymentVariables } from './task-variables.js';
import type { TaskLogLimits } from './task-log-limits.js';

export interface DeploymentsDeps {
  db: Db;
  projects: ProjectService;
  environments: EnvironmentService;
  machines: MachineService;
  jobs: TentacleJobs;
  clock: Clock;
  logger: Logger;
  /** each job's variables from the release's snapshot; without it jobs carry none */
  variables?: DeploymentVariables;
  /** how much output per target a task log keeps; TASK_LOG_LIMITS without it */
  logLimits?: TaskLogLimits;
}

export interface Deployments {
  deployments: DeploymentService;
  tasks: TaskService;
  history: HistoryService;
  runner: TaskRunner;
}

/**
 * Wires the deployment area: repositories, the task log, the runner and the services, and
 * stores every inventory the tentacles send. Call `runner.recover()` once the hub is up.
 */
export function createDeployments(deps: DeploymentsDeps): Deployments {
  const repo = new DeploymentRepository(deps.db);
  const historyRepo = new ReleaseHistoryRepository(deps.db);
  const log = new TaskLog(new TaskLogRepository(deps.db), deps.clock);
  const runner = new TaskRunner({ repo, history: historyRepo, log, jobs: deps.jobs, locks: new MachineProjectLocks(), clock: deps.clock, logger: deps.logger, ...(deps.variables ? { variables: deps.variables } : {}), ...(deps.logLimits ? { logLimits: deps.logLimits } : {}) });
  const deployments = new DeploymentService(repo, deps.projects, deps.environments, deps.machines, runner, log, deps.clock, deps.logger);
  const tasks = new TaskService(repo, runner, log);
  const history = new HistoryService(historyRepo, repo, deps.projects, deps.environments, deps.machines, deps.clock, deps.logger);
  deps.jobs.onInventory((machine, apps) => history.recordInventory(machine, apps));
  return { deployments, tasks, history, runner };
}
