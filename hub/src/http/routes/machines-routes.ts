import { Router } from 'express';
import { CreateRegistrationTokenRequestSchema, MachineListQuerySchema, MachineNameSchema, UpdateMachineRequestSchema } from '@cuttle/shared';
import type { MachineService } from '../../machines/machine-service.js';
import type { RegistrationService } from '../../machines/registration-service.js';
import { principalName, requireScope } from '../auth.js';
import { parseWith } from '../errors.js';
import { jsonBody } from '../json-body.js';

export function machinesRoutes(machines: MachineService, registration: RegistrationService, options: { jsonBodyLimit: number }): Router {
  const router = Router();
  router.use(['/machines', '/registration-tokens'], requireScope('admin'));
  const nameParam = (raw: unknown) => parseWith(MachineNameSchema, raw, 'machine name');

  router.post('/registration-tokens', ...jsonBody(options.jsonBodyLimit), (req, res) => {
    const body = parseWith(CreateRegistrationTokenRequestSchema, req.body ?? {}, 'body');
    res.status(201).json(registration.createToken(body, principalName(req)));
  });

  router.get('/machines', (req, res) => {
    const query = parseWith(MachineListQuerySchema, req.query, 'query');
    res.json({ items: machines.list(query) });
  });
  router.get('/machines/:name', (req, res) => {
    res.json(machines.get(nameParam(req.params.name)));
  });
  router.patch('/machines/:name', ...jsonBody(options.jsonBodyLimit), (req, res) => {
    res.json(machines.update(nameParam(req.params.name), parseWith(UpdateMachineRequestSchema, req.body, 'body')));
  });
  router.delete('/machines/:name', (req, res) => {
    machines.remove(nameParam(req.params.name));
    res.status(204).end();
  });
  router.post('/machines/:name/health-check', async (req, res) => {
    res.json(await machines.healthCheck(nameParam(req.params.name)));
  });
  return router;
}
