import { Router } from 'express';
import { z } from 'zod';
import { EnvironmentNameSchema, MachineNameSchema, ProjectNameSchema } from '@cuttle/shared';
import type { HistoryService } from '../../deployments/history-service.js';
import { requireScope } from '../auth.js';
import { parseWith } from '../errors.js';

const StatusQuerySchema = z
  .object({ project: ProjectNameSchema.optional(), environment: EnvironmentNameSchema.optional(), machine: MachineNameSchema.optional() })
  .strict();

/** Release history: which release is current on which machine, and the views built on it. */
export function historyRoutes(history: HistoryService): Router {
  const router = Router();
  router.use(['/machines', '/projects', '/dashboard', '/status'], requireScope('admin'));

  router.get('/machines/:name/releases', (req, res) => {
    res.json({ items: history.machineReleases(parseWith(MachineNameSchema, req.params.name, 'machine name')) });
  });
  router.get('/projects/:name/environments/:environment', (req, res) => {
    res.json(
      history.projectEnvironment(parseWith(ProjectNameSchema, req.params.name, 'project name'), parseWith(EnvironmentNameSchema, req.params.environment, 'environment name')),
    );
  });
  router.get('/dashboard', (_req, res) => {
    res.json(history.dashboard());
  });
  router.get('/status', (req, res) => {
    res.json({ items: history.status(parseWith(StatusQuerySchema, req.query, 'query')) });
  });
  return router;
}
