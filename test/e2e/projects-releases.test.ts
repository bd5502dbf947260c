import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, uploadRaw } from '../support/http.js';
import { makeTempDir, startHubProcess, type HubProcess } from '../support/processes.js';
import { buildZip } from '../support/raw-zip.js';

interface ReleaseView {
  version: string;
  packages: Array<{ id: string; version: string; sha256: string }>;
  steps: Array<{ name: string }>;
  notes: string | null;
}

const definition = {
  description: 'The shop front end',
  steps: [
    { name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web-server'], parallelism: 2 },
    { name: 'Warm cache', type: 'run-script', roles: ['web-server'], script: 'curl -sf localhost/health', timeoutSeconds: 30 },
  ],
};

describe('projects and releases API', () => {
  let hub: HubProcess;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  const call = <T = Record<string, unknown>>(route: string, method = 'GET', json?: unknown) => api<T>(hub.url, route, { method, key: hub.adminKey, json });
  const push = (name: string) => uploadRaw(hub.url, hub.adminKey, name, buildZip([{ name: 'Deploy.sh', data: `echo ${name}`, mode: 0o100755 }]));

  beforeAll(async () => {
    temp = await makeTempDir();
    hub = await startHubProcess({ dataDir: temp.dir, args: ['--keep-package-versions', '1'] });
    expect((await push('Acme.Web.1.0.0.zip')).status).toBe(201);
  });
  afterAll(async () => {
    await hub?.stop();
    await temp?.remove();
  });

  it('creates, replaces, lists and reads a project', async () => {
    const created = await call('/api/v1/projects/Shop', 'PUT', definition);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Shop', description: 'The shop front end', steps: definition.steps });
    const replaced = await call('/api/v1/projects/shop', 'PUT', { ...definition, description: 'changed' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ name: 'Shop', description: 'changed' });
    const list = await call<{ items: Array<{ name: string }> }>('/api/v1/projects');
    expect(list.body.items.map((p) => p.name)).toEqual(['Shop']);
  });

  it.each([
    ['no steps', { steps: [] }, 'steps'],
    ['an unknown step type', { steps: [{ name: 'x', type: 'teleport', roles: ['web'] }] }, 'steps.0.type'],
    ['a step without roles', { steps: [{ name: 'x', type: 'deploy-package', package: 'A', roles: [] }] }, 'steps.0.roles'],
    ['a relative installDir', { steps: [{ name: 'x', type: 'deploy-package', package: 'A', roles: ['web'], installDir: 'var/www' }] }, 'steps.0.installDir'],
    ['two steps of one name', { steps: [definition.steps[0], { ...definition.steps[1], name: 'deploy WEB' }] }, 'steps.1.name'],
    ['an unknown field', { steps: definition.steps, colour: 'blue' }, 'project definition'],
  ])('refuses a definition with %s, naming the field', async (_what, body, field) => {
    const r = await call<{ error: { code: string; details: { fields: Array<{ field: string }> } } }>('/api/v1/projects/Bad', 'PUT', body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid-request');
    expect(r.body.error.details.fields.map((f) => f.field)).toContain(field);
    expect((await call('/api/v1/projects/Bad')).status).toBe(404);
  });

  it('snapshots the process and the newest package version, numbering releases by patch', async () => {
    const first = await call<ReleaseView>('/api/v1/projects/Shop/releases', 'POST', { notes: 'first cut' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ version: '0.0.1', notes: 'first cut', packages: [{ id: 'Acme.Web', version: '1.0.0' }] });
    expect(first.body.steps.map((s) => s.name)).toEqual(['Deploy web', 'Warm cache']);

    // the definition changes; the release does not
    await call('/api/v1/projects/Shop', 'PUT', { steps: [definition.steps[0]] });
    expect((await call<ReleaseView>('/api/v1/projects/Shop/releases/0.0.1')).body.steps).toHaveLength(2);

    expect((await push('Acme.Web.1.1.0.zip')).status).toBe(201);
    const second = await call<ReleaseView>('/api/v1/projects/Shop/releases', 'POST', {});
    expect(second.body).toMatchObject({ version: '0.0.2', packages: [{ id: 'Acme.Web', version: '1.1.0' }] });
    const pinned = await call<ReleaseView>('/api/v1/projects/Shop/releases', 'POST', { version: '2.0.0-rc.1', packages: { 'Acme.Web': '1.0.0' } });
    expect(pinned.body).toMatchObject({ version: '2.0.0-rc.1', packages: [{ id: 'Acme.Web', version: '1.0.0' }] });
    const list = await call<{ items: ReleaseView[] }>('/api/v1/projects/Shop/releases');
    expect(list.body.items.map((r) => r.version)).toEqual(['2.0.0-rc.1', '0.0.2', '0.0.1']);
  });

  it('never lets retention or a delete remove a package version a release uses', async () => {
    // --keep-package-versions 1, but 1.0.0 is in releases 0.0.1 and 2.0.0-rc.1
    expect((await push('Acme.Web.1.2.0.zip')).status).toBe(201);
    const versions = await call<{ items: Array<{ version: string }> }>('/api/v1/packages?id=Acme.Web');
    expect(versions.body.items.map((p) => p.version)).toEqual(['1.2.0', '1.1.0', '1.0.0']);
    const refused = await call<{ error: { code: string } }>('/api/v1/packages/Acme.Web/1.0.0', 'DELETE');
    expect([refused.status, refused.body.error.code]).toEqual([409, 'package-in-use']);
  });

  it('refuses bad releases with clear codes', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ version: '0.0.1' }, 409, 'release-exists'],
      [{ version: 'banana' }, 400, 'invalid-version'],
      [{ packages: { 'Acme.Web': '9.9.9' } }, 400, 'unknown-package'],
      [{ packages: { 'Other.Thing': '1.0.0' } }, 400, 'unknown-package'],
      [{ extra: true }, 400, 'invalid-request'],
    ];
    for (const [body, status, code] of cases) {
      const r = await call<{ error: { code: string } }>('/api/v1/projects/Shop/releases', 'POST', body);
      expect([r.status, r.body.error.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect((await call<{ error: { code: string } }>('/api/v1/projects/Nope/releases', 'POST', {})).body.error.code).toBe('project-not-found');
    expect((await call<{ error: { code: string } }>('/api/v1/projects/Shop/releases/7.7.7')).body.error.code).toBe('release-not-found');
    await call('/api/v1/projects/Empty', 'PUT', { steps: [{ name: 'Deploy', type: 'deploy-package', package: 'Not.Pushed', roles: ['web'] }] });
    expect((await call<{ error: { code: string } }>('/api/v1/projects/Empty/releases', 'POST', {})).body.error.code).toBe('unknown-package');
  });

  it('deletes a project with its releases', async () => {
    expect((await call('/api/v1/projects/Shop', 'DELETE')).status).toBe(204);
    expect((await call('/api/v1/projects/Shop')).status).toBe(404);
    expect((await call('/api/v1/projects/Shop/releases')).status).toBe(404);
  });
});

describe('projects and releases through the CLI', () => {
  it('applies a YAML project, creates a release with a pinned package and lists it', async () => {
    const temp = await makeTempDir();
    const hub = await startHubProcess({ dataDir: `${temp.dir}/data` });
    try {
      const { writeFile } = await import('node:fs/promises');
      const { runCli } = await import('../support/processes.js');
      const cli = (args: string[]) => runCli(args, { hub: hub.url, apiKey: hub.adminKey, cwd: temp.dir });
      expect((await uploadRaw(hub.url, hub.adminKey, 'Acme.Web.1.0.0.zip', buildZip([{ name: 'a.txt', data: 'a' }]))).status).toBe(201);
      expect((await uploadRaw(hub.url, hub.adminKey, 'Acme.Web.1.1.0.zip', buildZip([{ name: 'a.txt', data: 'b' }]))).status).toBe(201);
      await writeFile(
        `${temp.dir}/cuttle.yaml`,
        ['name: Shop', 'steps:', '  - name: Deploy web', '    type: deploy-package', '    package: Acme.Web', '    roles: [web-server]', ''].join('\n'),
      );
      const applied = await cli(['project', 'apply', '-f', 'cuttle.yaml']);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toContain('created project Shop (1 step)');
      const created = await cli(['release', 'create', '--project', 'Shop', '--package', 'Acme.Web:1.0.0', '--json']);
      expect(created.code, created.stderr).toBe(0);
      expect(JSON.parse(created.stdout)).toMatchObject({ version: '0.0.1', packages: [{ id: 'Acme.Web', version: '1.0.0' }] });
      const listed = await cli(['release', 'list', '--project', 'Shop']);
      expect(listed.stdout).toContain('0.0.1');
      const bad = await cli(['release', 'create', '--project', 'Shop', '--package', 'Acme.Web:9.9.9']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('unknown-package');
    } finally {
      await hub.stop();
      await temp.remove();
    }
  });
});
