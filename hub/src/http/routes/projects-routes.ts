import { Router } from 'express';
import { CreateReleaseRequestSchema, ProjectDefinitionSchema, ProjectNameSchema } from '@cuttle/shared';
import type { ProjectService } from '../../projects/project-service.js';
import { principalName, requireScope } from '../auth.js';
import { parseWith } from '../errors.js';
import { jsonBody } from '../json-body.js';

/** Project definitions can be long (scripts): their own body limit. */
const PROJECT_BODY_LIMIT = 1024 * 1024;

export function projectsRoutes(projects: ProjectService, options: { jsonBodyLimit: number }): Router {
  const router = Router();
  router.use('/projects', requireScope('admin'));
  const nameParam = (raw: unknown) => parseWith(ProjectNameSchema, raw, 'project name');

  router.get('/projects', (_req, res) => {
    res.json({ items: projects.list() });
  });
  router.get('/projects/:name', (req, res) => {
    res.json(projects.get(nameParam(req.params.name)));
  });
  router.put('/projects/:name', ...jsonBody(PROJECT_BODY_LIMIT), (req, res) => {
    const name = nameParam(req.params.name);
    const { project, created } = projects.put(name, parseWith(ProjectDefinitionSchema, req.body, 'project definition'));
    res.status(created ? 201 : 200).json(project);
  });
  router.delete('/projects/:name', (req, res) => {
    projects.remove(nameParam(req.params.name));
    res.status(204).end();
  });

  router.post('/projects/:name/releases', ...jsonBody(options.jsonBodyLimit), (req, res) => {
    const body = parseWith(CreateReleaseRequestSchema, req.body ?? {}, 'body');
    res.status(201).json(projects.createRelease(nameParam(req.params.name), body, principalName(req)));
  });
  router.get('/projects/:name/releases', (req, res) => {
    res.json({ items: projects.listReleases(nameParam(req.params.name)) });
  });
  router.get('/projects/:name/releases/:version', (req, res) => {
    res.json(projects.getRelease(nameParam(req.params.name), String(req.params.version)));
  });
  return router;
}
