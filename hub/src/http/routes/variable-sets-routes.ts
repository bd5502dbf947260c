import { Router } from 'express';
import { VariableSetNameSchema } from '@cuttle/shared';
import type { VariableService } from '../../variables/variable-service.js';
import { requireScope } from '../auth.js';
import { parseWith } from '../errors.js';
import { jsonBody } from '../json-body.js';
import { parseVariableList, VARIABLES_BODY_LIMIT } from './variables-routes.js';

/** Variable sets that several projects include. */
export function variableSetsRoutes(variables: VariableService): Router {
  const router = Router();
  router.use('/variable-sets', requireScope('admin'));
  const nameParam = (raw: unknown) => parseWith(VariableSetNameSchema, raw, 'variable set name');

  router.get('/variable-sets', (_req, res) => {
    res.json({ items: variables.listSets() });
  });
  router.get('/variable-sets/:name', (req, res) => {
    const name = nameParam(req.params.name);
    const set = variables.getSet(name);
    res.set('ETag', variables.setEtag(name)).json(set);
  });
  router.put('/variable-sets/:name', ...jsonBody(VARIABLES_BODY_LIMIT), (req, res) => {
    const name = nameParam(req.params.name);
    const { set, created } = variables.putSet(name, parseVariableList(req.body), req.get('If-Match'));
    res.status(created ? 201 : 200).set('ETag', variables.setEtag(name)).json(set);
  });
  router.delete('/variable-sets/:name', (req, res) => {
    variables.deleteSet(nameParam(req.params.name));
    res.status(204).end();
  });
  return router;
}
