import { ProjectDefinitionSchema, compareVersions, type Project, type Release } from '@cuttle/shared';
import { readJsonBody, sendError, sendJson, sendNoContent, type FakeHandler } from './fake-hub.js';

export interface FakeProjects {
  handler: FakeHandler;
  projects: Map<string, Project>;
  /** Per project, oldest first. */
  releases: Map<string, Release[]>;
  /** Every JSON body the hub received, in order. */
  bodies: unknown[];
}

/**
 * A fake hub that keeps projects and releases in memory, answering like the real one: PUT
 * creates (201) or replaces (200), validation with the shared schema (400 invalid-request with
 * `details.fields`), 404 project-not-found / release-not-found, 409 release-exists, 400
 * unknown-package, the next patch version, newest-first release lists, 401 for another key.
 * `packages` is the catalog: package id -> versions on the hub.
 */
export function fakeProjects(options: { apiKey: string; packages?: Record<string, string[]> }): FakeProjects {
  const projects = new Map<string, Project>();
  const releases = new Map<string, Release[]>();
  const bodies: unknown[] = [];
  const catalog = options.packages ?? {};
  let clock = Date.parse('2025-01-31T14:05:09.000Z');
  const now = () => new Date((clock += 1000)).toISOString();

  const handler: FakeHandler = async (req, res, { method, url }) => {
    if (req.headers['x-api-key'] !== options.apiKey) {
      req.resume();
      return sendError(res, 401, 'unauthorized', 'The API key is missing or unknown.');
    }
    const parts = url.pathname.replace(/^\/api\/v1\//, '').split('/').map(decodeURIComponent);
    if (parts[0] !== 'projects') return sendError(res, 404, 'not-found', `No route ${method} ${url.pathname}.`);
    const name = parts[1];
    if (name === undefined) {
      if (method === 'GET') return sendJson(res, 200, { items: [...projects.values()] });
      return sendError(res, 404, 'not-found', 'no route');
    }
    if (method === 'PUT' && parts.length === 2) {
      const body = await readJsonBody(req);
      bodies.push(body);
      const parsed = ProjectDefinitionSchema.safeParse(body);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message }));
        return sendError(res, 400, 'invalid-request', `The project definition is invalid: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}.`, { fields });
      }
      const existing = projects.get(name);
      const stamp = now();
      const saved: Project = { name, ...parsed.data, createdAt: existing?.createdAt ?? stamp, updatedAt: stamp };
      projects.set(name, saved);
      return sendJson(res, existing === undefined ? 201 : 200, saved);
    }
    const found = projects.get(name);
    if (found === undefined) {
      req.resume();
      return sendError(res, 404, 'project-not-found', `No project is named "${name}".`, { name });
    }
    if (parts.length === 2 && method === 'GET') return sendJson(res, 200, found);
    if (parts.length === 2 && method === 'DELETE') {
      projects.delete(name);
      releases.delete(name);
      return sendNoContent(res);
    }
    const list = releases.get(name) ?? [];
    if (parts[2] !== 'releases') return sendError(res, 404, 'not-found', 'no route');
    if (parts.length === 3 && method === 'GET') return sendJson(res, 200, { items: [...list].reverse() });
    if (parts.length === 4 && method === 'GET') {
      const wanted = list.find((r) => r.version === parts[3]);
      if (wanted === undefined) return sendError(res, 404, 'release-not-found', `${name} has no release ${parts[3] ?? ''}.`, { project: name, version: parts[3] });
      return sendJson(res, 200, wanted);
    }
    if (parts.length === 3 && method === 'POST') {
      const body = (await readJsonBody(req)) as { version?: string; packages?: Record<string, string>; notes?: string };
      bodies.push(body);
      const highest = list.map((r) => r.version).sort(compareVersions).at(-1);
      const version = body.version ?? (highest === undefined ? '0.0.1' : highest.replace(/\d+$/, (patch) => String(Number(patch) + 1)));
      if (list.some((r) => r.version === version)) return sendError(res, 409, 'release-exists', `${name} already has a release ${version}.`, { project: name, version });
      const used = found.steps.flatMap((step) => (step.type === 'deploy-package' ? [step.package] : []));
      const unused = Object.keys(body.packages ?? {}).filter((id) => !used.includes(id));
      if (unused.length > 0) return sendError(res, 400, 'unknown-package', `The project's steps deploy no package ${unused.join(', ')}.`, { packages: unused });
      const packages: Release['packages'] = [];
      for (const id of used) {
        const versions = [...(catalog[id] ?? [])].sort(compareVersions);
        const chosen = body.packages?.[id] ?? versions.at(-1);
        if (chosen === undefined || !versions.includes(chosen)) {
          return sendError(res, 400, 'unknown-package', `There is no package ${id} ${chosen ?? ''} on the hub.`.replace('  ', ' '), { package: id, version: chosen ?? null });
        }
        packages.push({ id, version: chosen, sha256: 'b'.repeat(64), size: 2048 });
      }
      const created: Release = { project: name, version, notes: body.notes ?? null, createdAt: now(), createdBy: 'admin', steps: found.steps, packages };
      releases.set(name, [...list, created]);
      return sendJson(res, 201, created);
    }
    return sendError(res, 404, 'not-found', 'no route');
  };
  return { handler, projects, releases, bodies };
}
