import { Router } from 'express';
import { CreateEnvironmentRequestSchema, EnvironmentNameSchema, UpdateEnvironmentRequestSchema } from '@cuttle/shared';
import type { EnvironmentService } from '../../environments/environment-service.js';
import { requireScope } from '../auth.js';
import { parseWith } from '../errors.js';
import { jsonBody } from '../json-body.js';

export function environmentsRoutes(environments: EnvironmentService, options: { jsonBodyLimit: number }): Router {
  const router = Router();
  router.use('/environments', requireScope('admin'));
  const nameParam = (raw: unknown) => parseWith(EnvironmentNameSchema, raw, 'environment name');

  router.post('/environments', ...jsonBody(options.jsonBodyLimit), (req, res) => {
    res.status(201).json(environments.create(parseWith(CreateEnvironmentRequestSchema, req.body, 'body')));
  });
  router.get('/environments', (_req, res) => {
    res.json({ items: environments.list() });
  });
  router.get('/environments/:name', (req, res) => {
    res.json(environments.get(nameParam(req.params.name)));
  });
  router.patch('/environments/:name', ...jsonBody(options.jsonBodyLimit), (req, res) => {
    res.json(environments.update(nameParam(req.params.name), parseWith(UpdateEnvironmentRequestSchema, req.body, 'body')));
  });
  router.delete('/environments/:name', (req, res) => {
    environments.remove(nameParam(req.params.name));
    res.status(204).end();
  });
  return router;
}
