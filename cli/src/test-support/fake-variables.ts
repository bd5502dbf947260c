import { SENSITIVE_MASK, VariableListSchema, type Variable, type VariablePreview } from '@cuttle/shared';
import { variableKey } from '../variable-scope.js';
import type { ServerResponse } from 'node:http';
import { readJsonBody, sendError, sendJson, sendNoContent, type FakeHandler } from './fake-hub.js';

export interface FakeVariables {
  handler: FakeHandler;
  /** Project name -> its variables as stored (secrets in plain text: it is a fake). */
  projects: Map<string, Variable[]>;
  /** Variable set name -> its variables. */
  sets: Map<string, Variable[]>;
  /** Every JSON body the hub received, in order. */
  bodies: unknown[];
  /** `project@version` of every snapshot asked for. */
  snapshots: string[];
  /** Saves a list as another writer would (its ETag changes), without a request. */
  write(owner: { project: string } | { set: string }, variables: Variable[]): void;
}

function masked(variables: readonly Variable[]): Variable[] {
  return variables.map((variable) => (variable.sensitive === true ? { ...variable, value: SENSITIVE_MASK } : variable));
}

/** A PUT that sends the mask for a sensitive value keeps the stored secret of the same name and scope. */
function keepSecrets(incoming: readonly Variable[], stored: readonly Variable[]): Variable[] {
  const byKey = new Map(stored.map((variable) => [variableKey(variable), variable]));
  return incoming.map((variable) => {
    const old = byKey.get(variableKey(variable));
    return variable.value === SENSITIVE_MASK && variable.sensitive === true && old !== undefined ? { ...variable, value: old.value } : variable;
  });
}

/**
 * A fake hub keeping project variables and variable sets in memory, answering like the real
 * one: GET masks sensitive values, PUT replaces the whole list (validated with the shared
 * schema: 400 invalid-request with `details.fields`), 404 project-not-found and
 * variable-set-not-found, 409 variable-set-in-use for sets in `inUse`, the preview from
 * `preview`, and snapshots of releases in `releases` (`project@version`). 401 for another key.
 * Lists carry an `ETag` on GET and PUT answers, and a PUT whose `If-Match` names another one is
 * refused with 412 variables-changed; `etags: false` is a hub from before ETags (neither).
 */
export function fakeVariables(options: {
  apiKey: string;
  projects?: string[];
  inUse?: string[];
  releases?: string[];
  preview?: (project: string, query: URLSearchParams) => VariablePreview;
  etags?: boolean;
}): FakeVariables {
  const projects = new Map<string, Variable[]>((options.projects ?? ['Acme']).map((name) => [name, []]));
  const sets = new Map<string, Variable[]>();
  const bodies: unknown[] = [];
  const snapshots: string[] = [];
  let clock = Date.parse('2025-01-31T14:05:09.000Z');
  const stamps = new Map<string, string>();
  /** `project:Acme` / `set:Databases` -> how often the list was saved. */
  const versions = new Map<string, number>();
  const etags = options.etags !== false;
  const etagOf = (id: string) => `"v${versions.get(id) ?? 0}"`;
  const bump = (id: string) => versions.set(id, (versions.get(id) ?? 0) + 1);
  function answer(res: ServerResponse, id: string, status: number, body: unknown): void {
    if (etags) res.setHeader('ETag', etagOf(id));
    sendJson(res, status, body);
  }

  async function putList(req: Parameters<FakeHandler>[0], res: ServerResponse, id: string, stored: Variable[] | undefined, save: (list: Variable[]) => void, extra: Record<string, unknown> = {}): Promise<void> {
    const body = await readJsonBody(req);
    bodies.push(body);
    const ifMatch = req.headers['if-match'];
    // A set that does not exist has no version for If-Match to name.
    if (etags && ifMatch !== undefined && (stored === undefined || ifMatch !== etagOf(id))) {
      return sendError(res, 412, 'variables-changed', 'The variables changed since they were read (If-Match does not match their ETag); read them again and retry.');
    }
    const parsed = VariableListSchema.safeParse(body);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message }));
      return sendError(res, 400, 'invalid-request', 'The variable list is invalid.', { fields });
    }
    const list = keepSecrets(parsed.data.variables, stored ?? []);
    save(list);
    bump(id);
    answer(res, id, stored === undefined ? 201 : 200, { ...extra, variables: masked(list) });
  }

  const handler: FakeHandler = async (req, res, { method, url }) => {
    if (req.headers['x-api-key'] !== options.apiKey) {
      req.resume();
      return sendError(res, 401, 'unauthorized', 'The API key is missing or unknown.');
    }
    const parts = url.pathname.replace(/^\/api\/v1\//, '').split('/').map(decodeURIComponent);
    if (parts[0] === 'variable-sets') {
      const name = parts[1];
      if (name === undefined) {
        if (method !== 'GET') return sendError(res, 404, 'not-found', 'no route');
        const items = [...sets].map(([setName, list]) => ({ name: setName, variableCount: list.length, updatedAt: stamps.get(setName) ?? '' }));
        return sendJson(res, 200, { items });
      }
      const stored = sets.get(name);
      if (method === 'PUT') {
        return putList(
          req,
          res,
          `set:${name}`,
          stored,
          (list) => {
            sets.set(name, list);
            stamps.set(name, new Date((clock += 1000)).toISOString());
          },
          { name },
        );
      }
      if (stored === undefined) return sendError(res, 404, 'variable-set-not-found', `No variable set is named "${name}".`, { name });
      if (method === 'GET') return answer(res, `set:${name}`, 200, { name, variables: masked(stored), createdAt: stamps.get(name), updatedAt: stamps.get(name) });
      if (method === 'DELETE') {
        if (options.inUse?.includes(name) === true) return sendError(res, 409, 'variable-set-in-use', `Projects still include the variable set "${name}": Acme.`, { name, projects: ['Acme'] });
        sets.delete(name);
        bump(`set:${name}`);
        return sendNoContent(res);
      }
      return sendError(res, 404, 'not-found', 'no route');
    }
    if (parts[0] !== 'projects' || parts[1] === undefined) return sendError(res, 404, 'not-found', `No route ${method} ${url.pathname}.`);
    const project = parts[1];
    const stored = projects.get(project);
    if (stored === undefined) {
      req.resume();
      return sendError(res, 404, 'project-not-found', `No project is named "${project}".`, { name: project });
    }
    if (parts[2] === 'variables' && parts.length === 3) {
      if (method === 'GET') return answer(res, `project:${project}`, 200, { variables: masked(stored) });
      if (method === 'PUT') return putList(req, res, `project:${project}`, stored, (list) => projects.set(project, list));
    }
    if (parts[2] === 'variables' && parts[3] === 'preview' && method === 'GET') {
      if (options.preview === undefined) return sendError(res, 404, 'not-found', 'no preview');
      return sendJson(res, 200, options.preview(project, url.searchParams));
    }
    if (parts[2] === 'releases' && parts[4] === 'snapshot-variables' && method === 'POST') {
      const id = `${project}@${parts[3] ?? ''}`;
      if (options.releases?.includes(id) !== true) return sendError(res, 404, 'release-not-found', `${project} has no release ${parts[3] ?? ''}.`, { project, version: parts[3] });
      snapshots.push(id);
      return sendJson(res, 200, { project, version: parts[3], notes: null, createdAt: '2025-01-31T14:05:09.000Z', createdBy: 'admin', steps: [], packages: [] });
    }
    return sendError(res, 404, 'not-found', 'no route');
  };
  function write(owner: { project: string } | { set: string }, variables: Variable[]): void {
    if ('project' in owner) projects.set(owner.project, variables);
    else sets.set(owner.set, variables);
    bump('project' in owner ? `project:${owner.project}` : `set:${owner.set}`);
  }
  return { handler, projects, sets, bodies, snapshots, write };
}
