import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { printError } from '../output.js';
import { project, readJsonBody, sendError, sendJson, sendNoContent } from '../test-support/fake-hub.js';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { fakeProjects } from '../test-support/fake-projects.js';
import { createTestIo, failure, tempDir, testContext } from '../test-support/test-io.js';
import { runApplyProject, runListProjects, runRemoveProject, runShowProject } from './project.js';

const YAML = `# the Acme web shop
name: Acme
description: The Acme web shop
steps:
  - name: Deploy web
    type: deploy-package
    package: Acme.Web
    roles: [web-server]
    parallelism: 5
    retain: 3
  - name: Migrate database
    type: run-script
    roles:
      - db-server
    timeoutSeconds: 300
    script: |
      set -e
      ./migrate.sh
`;

const DEFINITION = {
  description: 'The Acme web shop',
  steps: [
    { name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web-server'], parallelism: 5, retain: 3 },
    { name: 'Migrate database', type: 'run-script', roles: ['db-server'], timeoutSeconds: 300, script: 'set -e\n./migrate.sh\n' },
  ],
};

describe('cuttle project apply', () => {
  const setup = fakeHubSetup({ apiKey: 'admin-key' });
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  async function file(name: string, text: string): Promise<string> {
    const full = path.join(dir, name);
    await writeFile(full, text);
    return full;
  }

  it('YAML: PUTs the definition without "name"; created the first time, updated the next', async () => {
    const fake = fakeProjects({ apiKey: 'admin-key' });
    const { ctx, stdout, hub } = await setup(fake.handler);
    const yaml = await file('cuttle.yaml', YAML);
    await runApplyProject(ctx, { file: yaml });
    expect(hub.requests[0]).toMatchObject({ method: 'PUT' });
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/projects/Acme');
    expect(hub.requests[0]?.headers['x-api-key']).toBe('admin-key');
    expect(hub.requests[0]?.headers['content-type']).toBe('application/json');
    expect(fake.bodies).toEqual([DEFINITION]);
    await runApplyProject(ctx, { file: yaml });
    expect(stdout()).toBe('created project Acme (2 steps)\nupdated project Acme (2 steps)\n');
    expect(fake.bodies).toHaveLength(2);
  });

  it('JSON: read the same way; --name overrides the file\'s name; --json prints the Project', async () => {
    const fake = fakeProjects({ apiKey: 'admin-key' });
    const { ctx, stdout, hub } = await setup(fake.handler, true);
    const json = await file('project.json', `${JSON.stringify({ name: 'Ignored', ...DEFINITION }, null, '\t')}\n`);
    const applied = await runApplyProject(ctx, { file: json, name: 'Acme.Staging' });
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/projects/Acme.Staging');
    expect(fake.bodies).toEqual([DEFINITION]);
    expect(JSON.parse(stdout())).toEqual(applied);
    expect(applied).toEqual(fake.projects.get('Acme.Staging'));
    expect(applied).toMatchObject({ name: 'Acme.Staging', ...DEFINITION });
  });

  it('a name only from --name, or only from the file, both work; relative paths resolve against the working directory', async () => {
    const fake = fakeProjects({ apiKey: 'admin-key' });
    const { hub } = await setup(fake.handler);
    const t = createTestIo({ cwd: dir });
    const ctx = testContext(t.io, { hub: hub.url, apiKey: 'admin-key' });
    await mkdir(path.join(dir, 'deploy'));
    await writeFile(path.join(dir, 'deploy', 'p.yml'), 'steps:\n  - {name: Hello, type: run-script, roles: [web], script: echo hi}\n');
    await runApplyProject(ctx, { file: 'deploy/p.yml', name: 'Hello' });
    expect(t.stdout()).toBe('created project Hello (1 step)\n');
  });

  it('local validation: every problem named by field (exit 2), nothing sent', async () => {
    const { ctx, hub } = await setup(fakeProjects({ apiKey: 'admin-key' }).handler);
    const bad = await file(
      'cuttle.yaml',
      [
        'name: Acme',
        'colour: blue',
        'steps:',
        '  - name: Deploy web',
        '    type: deploy-package',
        '    roles: []',
        '    retain: "3"',
        '    installDir: relative/dir',
        '  - name: Smoke test',
        '    type: run-scripts',
        '    roles: [web]',
        '    script: curl localhost',
        '',
      ].join('\n'),
    );
    expect(await failure(runApplyProject(ctx, { file: bad }))).toEqual({
      exitCode: 2,
      code: 'invalid-project',
      message: `${bad} is not a valid project definition (6 problems); nothing was sent`,
      details: {
        file: bad,
        fields: [
          { field: 'steps.0.package', message: 'missing: a string is required (step "Deploy web")' },
          { field: 'steps.0.roles', message: 'name at least one role the step runs on (step "Deploy web")' },
          { field: 'steps.0.installDir', message: 'installDir must be an absolute path (step "Deploy web")' },
          { field: 'steps.0.retain', message: 'Invalid input: expected number, received string (step "Deploy web")' },
          { field: 'steps.1.type', message: 'type must be "deploy-package" or "run-script" (step "Smoke test")' },
          { field: 'colour', message: 'unknown field' },
        ],
      },
    });
    expect(hub.requests).toHaveLength(0);
  });

  it('a missing or bad name is a problem of its own beside the others; a bad --name is invalid-option', async () => {
    const { ctx, hub } = await setup(fakeProjects({ apiKey: 'admin-key' }).handler);
    const noName = await file('a.yaml', 'steps: []\n');
    expect(await failure(runApplyProject(ctx, { file: noName }))).toMatchObject({
      exitCode: 2,
      code: 'invalid-project',
      details: {
        fields: [
          { field: 'name', message: 'missing: put "name: <project>" at the top of the file, or pass --name' },
          { field: 'steps', message: 'a project needs at least one step' },
        ],
      },
    });
    const badName = await file('b.yaml', 'name: my project\nsteps: [{name: a, type: run-script, roles: [web], script: x}]\n');
    expect(await failure(runApplyProject(ctx, { file: badName }))).toMatchObject({
      exitCode: 2,
      code: 'invalid-project',
      details: { fields: [{ field: 'name', message: expect.stringContaining('letters, digits') as unknown }] },
    });
    expect(await failure(runApplyProject(ctx, { file: badName, name: '../etc' }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    const numeric = await file('c.yaml', 'name: 42\nsteps: [{name: a, type: run-script, roles: [web], script: x}]\n');
    expect(await failure(runApplyProject(ctx, { file: numeric }))).toMatchObject({ details: { fields: [{ field: 'name' }] } });
    expect(hub.requests).toHaveLength(0);
  });

  it('a YAML syntax error says the line and column (exit 2), nothing sent', async () => {
    const { ctx, hub } = await setup(fakeProjects({ apiKey: 'admin-key' }).handler);
    const broken = await file('cuttle.yaml', 'name: Acme\nsteps:\n  - name: a\n    roles: [web-server\n    type: run-script\n');
    expect(await failure(runApplyProject(ctx, { file: broken }))).toEqual({
      exitCode: 2,
      code: 'invalid-project-file',
      message: `${broken} is not valid YAML or JSON: line 5, column 5: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      details: { file: broken, line: 5, column: 5, reason: 'BAD_INDENT', source: '    type: run-script' },
    });
    const unterminated = await file('quote.yaml', 'name: Acme\nsteps:\n  - name: "a\n');
    expect(await failure(runApplyProject(ctx, { file: unterminated }))).toMatchObject({
      code: 'invalid-project-file',
      message: expect.stringContaining('line 4, column 1 (the end of the file): Missing closing "quote') as unknown,
    });

    const duplicate = await file('dup.yaml', 'name: Acme\nname: Other\n');
    expect(await failure(runApplyProject(ctx, { file: duplicate }))).toMatchObject({
      code: 'invalid-project-file',
      message: `${duplicate} is not valid YAML or JSON: line 2, column 1: Map keys must be unique`,
    });

    const json = await file('p.json', '{\n  "name": "Acme",\n  "steps": [\n    {"name": "a" "type": "run-script"}\n  ]\n}\n');
    const jsonReport = await failure(runApplyProject(ctx, { file: json }));
    expect(jsonReport).toMatchObject({ exitCode: 2, code: 'invalid-project-file', details: { line: 4 } });
    expect(jsonReport.message).toMatch(/line 4, column \d+/);
    expect(hub.requests).toHaveLength(0);
  });

  it('a missing file, a folder, an empty file, a list or an unresolved alias: exit 2', async () => {
    const { ctx, hub } = await setup(fakeProjects({ apiKey: 'admin-key' }).handler);
    expect(await failure(runApplyProject(ctx, { file: path.join(dir, 'nope.yaml') }))).toMatchObject({ exitCode: 2, code: 'file-not-found' });
    expect(await failure(runApplyProject(ctx, { file: dir }))).toMatchObject({ exitCode: 2, code: 'invalid-path' });
    expect(await failure(runApplyProject(ctx, { file: await file('empty.yaml', '# nothing yet\n') }))).toMatchObject({
      exitCode: 2,
      code: 'invalid-project-file',
      message: expect.stringContaining('is empty') as unknown,
    });
    expect(await failure(runApplyProject(ctx, { file: await file('list.yaml', '- a\n- b\n') }))).toMatchObject({ code: 'invalid-project-file', message: expect.stringContaining('holds a list') as unknown });
    expect(await failure(runApplyProject(ctx, { file: await file('alias.yaml', 'name: *nope\n') }))).toMatchObject({ exitCode: 2, code: 'invalid-project-file' });
    expect(await failure(runApplyProject(ctx, { file: await file('big.yaml', `# ${'x'.repeat(1024 * 1024)}\n`) }))).toMatchObject({ exitCode: 2, code: 'invalid-project-file' });
    expect(hub.requests).toHaveLength(0);
  });

  it('a hub 400 keeps its code and details.fields (exit 2), and they are printed one per line', async () => {
    const fields = [{ field: 'steps.0.package', message: 'no such package on this hub' }];
    const { ctx } = await setup(async (req, res) => {
      await readJsonBody(req);
      sendError(res, 400, 'invalid-request', 'The project definition is invalid: steps.0.package: no such package on this hub.', { fields });
    });
    const report = await failure(runApplyProject(ctx, { file: await file('cuttle.yaml', YAML) }));
    expect(report).toEqual({ exitCode: 2, code: 'invalid-request', message: 'The project definition is invalid: steps.0.package: no such package on this hub.', details: { fields } });
    const t = createTestIo({ cwd: '/' });
    printError(t.io, report, false);
    expect(t.stderr()).toBe('error: The project definition is invalid: steps.0.package: no such package on this hub. (invalid-request)\n  steps.0.package: no such package on this hub\n');
    printError(t.io, report, true);
    expect(JSON.parse(t.stdout())).toEqual({ error: { code: 'invalid-request', message: report.message, details: { fields } } });
  });

  it('401 is exit 3; a malformed answer is bad-response', async () => {
    const fake = fakeProjects({ apiKey: 'admin-key' });
    const { hub } = await setup(fake.handler);
    const yaml = await file('cuttle.yaml', YAML);
    const t = createTestIo({ cwd: '/' });
    expect(await failure(runApplyProject(testContext(t.io, { hub: hub.url, apiKey: 'wrong' }), { file: yaml }))).toMatchObject({ exitCode: 3, code: 'unauthorized' });
    const odd = await setup((req, res) => {
      req.resume();
      sendJson(res, 201, { name: 'Acme' });
    });
    expect(await failure(runApplyProject(odd.ctx, { file: yaml }))).toMatchObject({ exitCode: 1, code: 'bad-response' });
  });
});

describe('cuttle project list, show, remove', () => {
  const setup = fakeHubSetup({ apiKey: 'admin-key' });
  const items = [
    project(),
    project({
      name: 'Payments',
      description: undefined,
      steps: [{ name: 'Smoke', type: 'run-script', roles: ['web'], script: 'true' }],
      updatedAt: '2025-02-01T08:00:00.000Z',
    }),
  ];

  it('list: a table of name, steps, packages, updated, description', async () => {
    const { ctx, stdout, hub } = await setup((_req, res) => sendJson(res, 200, { items }));
    await runListProjects(ctx);
    expect(hub.requests[0]).toMatchObject({ method: 'GET' });
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/projects');
    expect(stdout().split('\n')).toEqual([
      'NAME      STEPS  PACKAGES  UPDATED               DESCRIPTION',
      'Acme      2      Acme.Web  2025-01-31 14:05:09Z  The Acme web shop',
      'Payments  1      -         2025-02-01 08:00:00Z',
      '',
    ]);
  });

  it('list --json prints {items}; an empty list says how to start', async () => {
    const json = await setup((_req, res) => sendJson(res, 200, { items }), true);
    await runListProjects(json.ctx);
    expect(JSON.parse(json.stdout())).toEqual({ items });
    const empty = await setup((_req, res) => sendJson(res, 200, { items: [] }));
    await runListProjects(empty.ctx);
    expect(empty.stdout()).toBe('no projects; create one with: cuttle project apply -f cuttle.yaml\n');
  });

  it('show: the fields, then the steps as a numbered list with scripts indented', async () => {
    const shown = project({
      steps: [
        { name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web-server', 'api'], installDir: '/srv/acme', parallelism: 5, retain: 3 },
        { name: 'Migrate database', type: 'run-script', roles: ['db-server'], timeoutSeconds: 300, script: 'set -e\n./migrate.sh\n' },
      ],
      variableSets: ['Common'],
    });
    const { ctx, stdout, hub } = await setup((_req, res) => sendJson(res, 200, shown));
    await runShowProject(ctx, 'Acme');
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/projects/Acme');
    expect(stdout()).toBe(
      [
        'name:           Acme',
        'description:    The Acme web shop',
        'variable sets:  Common',
        'created:        2025-01-31 14:05:09Z',
        'updated:        2025-01-31 14:05:09Z',
        'steps (2):',
        '  1. Deploy web (deploy-package): Acme.Web on web-server, api; install dir /srv/acme; parallelism 5; retain 3',
        '  2. Migrate database (run-script) on db-server; timeout 300 s',
        '       set -e',
        '       ./migrate.sh',
        '',
      ].join('\n'),
    );
  });

  it('show --json prints the project; 404 is exit 1; a bad name exit 2 before any request', async () => {
    const { ctx, stdout, hub } = await setup((req, res) => {
      if (req.url === '/api/v1/projects/Acme') sendJson(res, 200, project());
      else sendError(res, 404, 'project-not-found', 'No project is named "Nope".', { name: 'Nope' });
    }, true);
    await runShowProject(ctx, 'Acme');
    expect(JSON.parse(stdout())).toEqual(project());
    expect(await failure(runShowProject(ctx, 'Nope'))).toEqual({ exitCode: 1, code: 'project-not-found', message: 'No project is named "Nope".', details: { name: 'Nope' } });
    expect(await failure(runShowProject(ctx, 'a/b'))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(hub.requests).toHaveLength(2);
  });

  it('remove: DELETEs; --json prints {name, removed}; 404 is exit 1; 401 is exit 3', async () => {
    const { ctx, stdout, hub } = await setup((req, res) => {
      if (req.headers['x-api-key'] !== 'admin-key') sendError(res, 401, 'unauthorized', 'The API key is missing or unknown.');
      else if (req.url === '/api/v1/projects/Acme') sendNoContent(res);
      else sendError(res, 404, 'project-not-found', 'No project is named "Nope".');
    });
    await runRemoveProject(ctx, 'Acme');
    expect(hub.requests[0]).toMatchObject({ method: 'DELETE' });
    expect(stdout()).toBe('removed project Acme\n');
    expect(await failure(runRemoveProject(ctx, 'Nope'))).toMatchObject({ exitCode: 1, code: 'project-not-found' });
    const t = createTestIo({ cwd: '/' });
    expect(await failure(runRemoveProject(testContext(t.io, { hub: hub.url }), 'Acme'))).toMatchObject({ exitCode: 3, code: 'unauthorized' });
    const json = await setup((_req, res) => sendNoContent(res), true);
    await runRemoveProject(json.ctx, 'Acme');
    expect(JSON.parse(json.stdout())).toEqual({ name: 'Acme', removed: true });
  });
});
