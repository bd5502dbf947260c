import express, { Router, type Express } from 'express';
import type { Logger } from 'pino';
import { API_BASE, PROTOCOL_VERSION, type HubInfo } from '@cuttle/shared';
import type { ApiKeyService } from '../api-keys/api-key-service.js';
import type { DeploymentService } from '../deployments/deployment-service.js';
import type { HistoryService } from '../deployments/history-service.js';
import type { TaskService } from '../deployments/task-service.js';
import type { EnvironmentService } from '../environments/environment-service.js';
import type { MachineService } from '../machines/machine-service.js';
import type { RegistrationService } from '../machines/registration-service.js';
import type { PackageService } from '../packages/package-service.js';
import type { ProjectService } from '../projects/project-service.js';
import type { VariableService } from '../variables/variable-service.js';
import { authenticate } from './auth.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { apiKeysRoutes } from './routes/api-keys-routes.js';
import { deploymentsRoutes } from './routes/deployments-routes.js';
import { environmentsRoutes } from './routes/environments-routes.js';
import { historyRoutes } from './routes/history-routes.js';
import { machinesRoutes } from './routes/machines-routes.js';
import { projectsRoutes } from './routes/projects-routes.js';
import { packagesRoutes } from './routes/packages-routes.js';
import { tasksRoutes } from './routes/tasks-routes.js';
import { variableSetsRoutes } from './routes/variable-sets-routes.js';
import { variablesRoutes } from './routes/variables-routes.js';

export interface AppDeps {
  apiKeys: ApiKeyService;
  packages: PackageService;
  environments: EnvironmentService;
  machines: MachineService;
  registration: RegistrationService;
  projects: ProjectService;
  variables: VariableService;
  deployments: DeploymentService;
  tasks: TaskService;
  history: HistoryService;
  log: Logger;
  version: string;
  hubInfo: () => Omit<HubInfo, 'name' | 'version' | 'protocolVersion'>;
  maxPackageSize: number;
  jsonBodyLimit: number;
}

/** Builds the HTTP app without listening; main decides how to listen. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  const api = Router();
  api.use(authenticate(deps.apiKeys));
  api.get('/hub', (_req, res) => {
    const info: HubInfo = { name: 'cuttle-hub', version: deps.version, protocolVersion: PROTOCOL_VERSION, ...deps.hubInfo() };
    res.json(info);
  });
  api.use(packagesRoutes(deps.packages, { maxPackageSize: deps.maxPackageSize }));
  api.use(apiKeysRoutes(deps.apiKeys, { jsonBodyLimit: deps.jsonBodyLimit }));
  api.use(environmentsRoutes(deps.environments, { jsonBodyLimit: deps.jsonBodyLimit }));
  api.use(machinesRoutes(deps.machines, deps.registration, { jsonBodyLimit: deps.jsonBodyLimit }));
  api.use(projectsRoutes(deps.projects, { jsonBodyLimit: deps.jsonBodyLimit }));
  api.use(variablesRoutes(deps.variables));
  api.use(variableSetsRoutes(deps.variables));
  api.use(historyRoutes(deps.history));
  api.use(deploymentsRoutes(deps.deployments, { jsonBodyLimit: deps.jsonBodyLimit }));
  api.use(tasksRoutes(deps.tasks));
  app.use(API_BASE, api);

  app.use(notFoundHandler);
  app.use(errorHandler(deps.log));
  return app;
}
