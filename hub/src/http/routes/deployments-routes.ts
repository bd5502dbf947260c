import { Router } from 'express';
import { z } from 'zod';
import { CreateDeploymentRequestSchema, RollbackRequestSchema } from '@cuttle/shared';
import type { DeploymentService } from '../../deployments/deployment-service.js';
import { principalName, requireScope } from '../auth.js';
import { parseWith } from '../errors.js';
import { jsonBody } from '../json-body.js';

const ListQuerySchema = z
  .object({ project: z.string().min(1).optional(), environment: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() })
  .strict();
export const IdParamSchema = z.coerce.number().int().positive();

export function deploymentsRoutes(deployments: DeploymentService, options: { jsonBodyLimit: number }): Router {
  const router = Router();
  router.use(['/deployments', '/rollback'], requireScope('admin'));

  router.post('/deployments', ...jsonBody(options.jsonBodyLimit), (req, res) => {
    const body = parseWith(CreateDeploymentRequestSchema, req.body, 'body');
    res.status(201).json(deployments.create(body, principalName(req)));
  });
  router.get('/deployments', (req, res) => {
    res.json({ items: deployments.list(parseWith(ListQuerySchema, req.query, 'query')) });
  });
  router.get('/deployments/:id', (req, res) => {
    res.json(deployments.get(parseWith(IdParamSchema, req.params.id, 'deployment id')));
  });
  router.post('/rollback', ...jsonBody(options.jsonBodyLimit), (req, res) => {
    const body = parseWith(RollbackRequestSchema, req.body, 'body');
    res.status(201).json(deployments.rollback(body, principalName(req)));
  });
  return router;
}
