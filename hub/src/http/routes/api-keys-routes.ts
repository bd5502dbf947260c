import { Router } from 'express';
import { CreateApiKeyRequestSchema } from '@cuttle/shared';
import type { ApiKeyService } from '../../api-keys/api-key-service.js';
import { requireScope } from '../auth.js';
import { parseWith } from '../errors.js';
import { jsonBody } from '../json-body.js';

export function apiKeysRoutes(keys: ApiKeyService, options: { jsonBodyLimit: number }): Router {
  const router = Router();
  router.use('/api-keys', requireScope('admin'));

  router.post('/api-keys', ...jsonBody(options.jsonBodyLimit), (req, res) => {
    const body = parseWith(CreateApiKeyRequestSchema, req.body, 'body');
    res.status(201).json(keys.create(body.name, body.scopes));
  });

  router.get('/api-keys', (_req, res) => {
    res.json({ items: keys.list() });
  });

  router.delete('/api-keys/:name', (req, res) => {
    keys.revoke(String(req.params.name));
    res.status(204).end();
  });

  return router;
}
