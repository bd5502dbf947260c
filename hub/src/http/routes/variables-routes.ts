import { Router } from 'express';
import { z } from 'zod';
import { CuttleError, EnvironmentNameSchema, MachineNameSchema, ProjectNameSchema, RoleNameSchema, VariableListSchema, type Variable } from '@cuttle/shared';
import type { VariableService } from '../../variables/variable-service.js';
import { requireScope } from '../auth.js';
import { parseWith, validationError } from '../errors.js';
import { jsonBody } from '../json-body.js';

/** A whole list of variables (up to 5000, values up to 256 KiB each) is far larger than other JSON bodies. */
export const VARIABLES_BODY_LIMIT = 16 * 1024 * 1024;

/**
 * `{variables: [...]}` or a bare array. A refusal names the fields and, besides, the index and
 * name of the first variable at fault.
 */
export function parseVariableList(body: unknown): Variable[] {
  const result = VariableListSchema.safeParse(Array.isArray(body) ? { variables: body } : body);
  if (result.success) return result.data.variables;
  const error = validationError(result.error, 'variable list');
  const at = result.error.issues.find((issue) => issue.path[0] === 'variables' && typeof issue.path[1] === 'number')?.path[1];
  if (typeof at !== 'number') throw error;
  const raw = (Array.isArray(body) ? body : (body as { variables: unknown[] }).variables)[at] as { name?: unknown } | undefined;
  throw new CuttleError(error.code, error.message, { ...error.details, index: at, name: typeof raw?.name === 'string' ? raw.name : null });
}

/** Names each `#{Name}` a preview left as it is (no value for the target), separated by "; ". */
export const WARNINGS_HEADER = 'X-Cuttle-Warnings';

const PreviewQuerySchema = z.object({
  environment: EnvironmentNameSchema,
  machine: MachineNameSchema.optional(),
  role: z.union([RoleNameSchema, z.array(RoleNameSchema).max(50)]).optional(),
});

/** Project variables, their preview for a target, and release snapshots. */
export function variablesRoutes(variables: VariableService): Router {
  const router = Router();
  router.use('/projects', requireScope('admin'));
  const nameParam = (raw: unknown) => parseWith(ProjectNameSchema, raw, 'project name');

  router.get('/projects/:name/variables', (req, res) => {
    const name = nameParam(req.params.name);
    const list = variables.projectVariables(name);
    res.set('ETag', variables.projectVariablesEtag(name)).json({ variables: list });
  });
  router.put('/projects/:name/variables', ...jsonBody(VARIABLES_BODY_LIMIT), (req, res) => {
    const name = nameParam(req.params.name);
    const saved = variables.putProjectVariables(name, parseVariableList(req.body), req.get('If-Match'));
    res.set('ETag', variables.projectVariablesEtag(name)).json({ variables: saved });
  });
  router.get('/projects/:name/variables/preview', (req, res) => {
    const name = nameParam(req.params.name);
    const query = parseWith(PreviewQuerySchema, req.query, 'query');
    const roles = query.role === undefined ? [] : Array.isArray(query.role) ? query.role : [query.role];
    const { preview, warnings } = variables.previewWithWarnings(name, { environment: query.environment, machine: query.machine, roles });
    // the preview's shape stays as it is; references left as they are are told beside it
    if (warnings.length > 0) res.set(WARNINGS_HEADER, warnings.join('; '));
    res.json(preview);
  });
  router.post('/projects/:name/releases/:version/snapshot-variables', (req, res) => {
    res.json(variables.refreshSnapshot(nameParam(req.params.name), String(req.params.version)));
  });
  return router;
}
