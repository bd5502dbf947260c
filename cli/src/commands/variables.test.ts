import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Variable, VariablePreview } from '@cuttle/shared';
import { sendError } from '../test-support/fake-hub.js';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { fakeVariables, type FakeVariables } from '../test-support/fake-variables.js';
import { createTestIo, failure, tempDir, testContext } from '../test-support/test-io.js';
import { runListVariables, runPreviewVariables } from './variables.js';
import { mergeVariables, runImportVariables, runRemoveVariable, runSetVariable } from './variables-edit.js';

const KEY = 'admin-key';
const SECRET = 'pr0d-s3cret!';

const STORED: Variable[] = [
  { name: 'Db.Host', value: 'test-db.internal', scope: { environments: ['Test'] } },
  { name: 'Db.Host', value: 'prod-db.internal', scope: { environments: ['Production'] } },
  { name: 'Db.Password', value: SECRET, sensitive: true, scope: { environments: ['Production'] } },
  { name: 'App.Url', value: 'https://acme.example' },
];

function acme(variables: Variable[] = STORED): FakeVariables {
  const fake = fakeVariables({ apiKey: KEY });
  fake.projects.set('Acme', structuredClone(variables));
  return fake;
}

describe('mergeVariables', () => {
  it('replaces by name and scope (scope order does not matter), appends the rest; --replace keeps only the incoming ones', () => {
    const existing: Variable[] = [
      { name: 'A', value: '1', scope: { environments: ['Test', 'Staging'] } },
      { name: 'A', value: '2' },
      { name: 'B', value: '3', sensitive: true },
    ];
    const incoming: Variable[] = [
      { name: 'A', value: 'new', scope: { environments: ['Staging', 'Test'] } },
      { name: 'C', value: '4' },
      { name: 'B', value: '5' },
    ];
    expect(mergeVariables(existing, incoming, false)).toEqual({
      variables: [{ name: 'A', value: 'new', scope: { environments: ['Staging', 'Test'] } }, { name: 'A', value: '2' }, { name: 'B', value: '5', sensitive: true }, { name: 'C', value: '4' }],
      added: 1,
      updated: 2,
      removed: 0,
    });
    const replaced = mergeVariables(existing, incoming, true);
    expect(replaced.variables.map((v) => `${v.name}=${v.value}`)).toEqual(['A=new', 'C=4', 'B=5']);
    expect(replaced).toMatchObject({ added: 1, updated: 2, removed: 1 });
    // Scope names compare without regard to case, as on the hub; variable names exactly.
    expect(mergeVariables(existing, [{ name: 'A', value: 'x', scope: { environments: ['staging', 'TEST'] } }], false)).toMatchObject({ added: 0, updated: 1 });
    expect(mergeVariables(existing, [{ name: 'a', value: 'x' }], false)).toMatchObject({ added: 1, updated: 0 });
    // An explicit sensitive: false makes a secret ordinary.
    expect(mergeVariables(existing, [{ name: 'B', value: 'x', sensitive: false }], false).variables[2]).toEqual({ name: 'B', value: 'x', sensitive: false });
  });
});

describe('cuttle variables list', () => {
  const setup = fakeHubSetup({ apiKey: KEY });

  it('prints a table grouped by name, sensitive values masked; --json prints the hub list', async () => {
    const fake = acme();
    const { ctx, stdout, hub } = await setup(fake.handler);
    await runListVariables(ctx, { project: 'Acme' });
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/projects/Acme/variables');
    expect(stdout()).toBe(
      [
        'NAME         VALUE                 SENSITIVE  SCOPE',
        'App.Url      https://acme.example             -',
        'Db.Host      test-db.internal                 environments: Test',
        'Db.Host      prod-db.internal                 environments: Production',
        'Db.Password  ********              yes        environments: Production',
        '',
      ].join('\n'),
    );
    const json = await setup(fake.handler, true);
    await runListVariables(json.ctx, { project: 'Acme' });
    const doc = JSON.parse(json.stdout()) as { variables: Variable[] };
    expect(doc.variables[2]).toEqual({ name: 'Db.Password', value: '********', sensitive: true, scope: { environments: ['Production'] } });
    expect(json.stdout()).not.toContain(SECRET);
  });

  it('escapes line breaks and cuts long values in the table; an empty list says how to add one', async () => {
    const fake = acme([{ name: 'Multi', value: 'a\nb' }, { name: 'Long', value: 'x'.repeat(100) }, { name: 'Empty', value: '' }]);
    const { ctx, stdout } = await setup(fake.handler);
    await runListVariables(ctx, { project: 'Acme' });
    expect(stdout()).toContain(`Long   ${'x'.repeat(57)}...`);
    expect(stdout()).toContain('Multi  a\\nb');
    expect(stdout()).toContain('Empty  ""');
    const empty = await setup(fakeVariables({ apiKey: KEY }).handler);
    await runListVariables(empty.ctx, { project: 'Acme' });
    expect(empty.stdout()).toBe('no variables in project Acme; add one with: cuttle variables set --project Acme NAME VALUE\n');
  });

  it('needs exactly one of --project and --set (exit 2, nothing sent); a missing set is exit 1', async () => {
    const { ctx, hub } = await setup(acme().handler);
    expect(await failure(runListVariables(ctx, {}))).toMatchObject({ exitCode: 2, code: 'usage' });
    expect(await failure(runListVariables(ctx, { project: 'Acme', set: 'Db' }))).toMatchObject({ exitCode: 2, code: 'usage' });
    expect(await failure(runListVariables(ctx, { set: '-bad' }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(hub.requests).toHaveLength(0);
    expect(await failure(runListVariables(ctx, { set: 'Common Db' }))).toEqual({
      exitCode: 1,
      code: 'variable-set-not-found',
      message: 'No variable set is named "Common Db".',
      details: { name: 'Common Db' },
    });
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/variable-sets/Common%20Db');
  });
});

describe('cuttle variables set', () => {
  const setup = fakeHubSetup({ apiKey: KEY });

  it('replaces the value with the same name and scope in place, keeps the secrets it does not touch', async () => {
    const fake = acme();
    const { ctx, stdout, hub } = await setup(fake.handler);
    const result = await runSetVariable(ctx, { project: 'Acme', name: 'Db.Host', value: 'prod-db2.internal', environment: ['Production'] });
    expect(result.action).toBe('updated');
    expect(hub.requests.map((r) => r.method)).toEqual(['GET', 'PUT']);
    // The secret went back as the mask, and the hub kept it.
    expect(fake.bodies[0]).toEqual({
      variables: [STORED[0], { ...STORED[1], value: 'prod-db2.internal' }, { ...STORED[2], value: '********' }, STORED[3]],
    });
    expect(fake.projects.get('Acme')?.[2]?.value).toBe(SECRET);
    expect(stdout()).toBe('updated Db.Host = prod-db2.internal (environments: Production) in project Acme\n');
  });

  it('a new scope or an unscoped value is added at the end; scopes compare as sets', async () => {
    const fake = acme([{ name: 'Url', value: 'a', scope: { environments: ['Test', 'Staging'], roles: ['web'] } }]);
    const { ctx, stdout } = await setup(fake.handler);
    await runSetVariable(ctx, { project: 'Acme', name: 'Url', value: 'b', environment: ['Staging,Test'], role: ['web'] });
    await runSetVariable(ctx, { project: 'Acme', name: 'Url', value: 'c' });
    await runSetVariable(ctx, { project: 'Acme', name: 'Url', value: 'd', machine: ['web-p1'], environment: ['Production'] });
    expect(fake.projects.get('Acme')).toEqual([
      { name: 'Url', value: 'b', scope: { environments: ['Staging', 'Test'], roles: ['web'] } },
      { name: 'Url', value: 'c' },
      { name: 'Url', value: 'd', scope: { environments: ['Production'], machines: ['web-p1'] } },
    ]);
    expect(stdout().split('\n')).toEqual([
      'updated Url = b (environments: Staging, Test; roles: web) in project Acme',
      'added Url = c to project Acme',
      'added Url = d (environments: Production; machines: web-p1) to project Acme',
      '',
    ]);
  });

  it('never prints a sensitive value; a secret stays sensitive unless --no-sensitive', async () => {
    const fake = acme();
    const text = await setup(fake.handler);
    await runSetVariable(text.ctx, { project: 'Acme', name: 'Api.Key', value: 'k-123456', sensitive: true });
    expect(text.stdout()).toBe('added Api.Key = ******** to project Acme\n');
    expect(text.stderr()).toContain('--value-stdin keeps a secret out of them');
    expect(text.stdout() + text.stderr()).not.toContain('k-123456');
    // No flag: the stored secret's sensitivity is kept.
    await runSetVariable(text.ctx, { project: 'Acme', name: 'Db.Password', value: 'rotated-1', environment: ['Production'] });
    expect(fake.projects.get('Acme')?.find((v) => v.name === 'Db.Password')).toEqual({ name: 'Db.Password', value: 'rotated-1', sensitive: true, scope: { environments: ['Production'] } });
    const json = await setup(fake.handler, true);
    const result = await runSetVariable(json.ctx, { project: 'Acme', name: 'Db.Password', value: 'rotated-2', environment: ['Production'] });
    expect(JSON.parse(json.stdout())).toEqual({ project: 'Acme', action: 'updated', variable: { name: 'Db.Password', value: '********', sensitive: true, scope: { environments: ['Production'] } } });
    expect(result.variable.value).toBe('********');
    await runSetVariable(json.ctx, { project: 'Acme', name: 'Db.Password', value: 'public', sensitive: false, environment: ['Production'] });
    expect(fake.projects.get('Acme')?.find((v) => v.name === 'Db.Password')).toMatchObject({ value: 'public', sensitive: false });
  });

  it('--value-stdin reads the value (one trailing line break dropped) and never echoes it', async () => {
    const fake = acme();
    const { hub } = await setup(fake.handler);
    const t = createTestIo({ cwd: '/', stdin: [Buffer.from('line1\nse'), Buffer.from('cret\n')] });
    const ctx = testContext(t.io, { hub: hub.url, apiKey: KEY });
    await runSetVariable(ctx, { project: 'Acme', name: 'Db.Password', valueStdin: true, sensitive: true, environment: ['Test'] });
    expect(fake.projects.get('Acme')?.at(-1)).toEqual({ name: 'Db.Password', value: 'line1\nsecret', sensitive: true, scope: { environments: ['Test'] } });
    expect(t.stdout()).toBe('added Db.Password = ******** (environments: Test) to project Acme\n');
    expect(t.stderr()).toBe('');
    const crlf = createTestIo({ cwd: '/', stdin: 'v\r\n' });
    await runSetVariable(testContext(crlf.io, { hub: hub.url, apiKey: KEY }), { project: 'Acme', name: 'X', valueStdin: true });
    expect(fake.projects.get('Acme')?.at(-1)).toEqual({ name: 'X', value: 'v' });
  });

  it('refuses empty stdin, a value twice or none, the mask as a value, bad names and scopes (exit 2, nothing sent)', async () => {
    const fake = acme();
    const { ctx, hub } = await setup(fake.handler);
    const empty = createTestIo({ cwd: '/', stdin: '\n' });
    const emptyCtx = testContext(empty.io, { hub: hub.url, apiKey: KEY });
    expect(await failure(runSetVariable(emptyCtx, { project: 'Acme', name: 'P', valueStdin: true }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runSetVariable(emptyCtx, { project: 'Acme', name: 'P', value: 'x', valueStdin: true }))).toMatchObject({ exitCode: 2, code: 'usage' });
    expect(await failure(runSetVariable(ctx, { project: 'Acme', name: 'P' }))).toMatchObject({ exitCode: 2, code: 'usage' });
    expect(await failure(runSetVariable(ctx, { project: 'Acme', name: 'P', value: '********', sensitive: true }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    const badName = await failure(runSetVariable(ctx, { project: 'Acme', name: 'Db Host', value: 'x' }));
    expect(badName).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(badName.message).toContain('name: letters, digits');
    expect(await failure(runSetVariable(ctx, { project: 'Acme', name: 'A', value: 'x', environment: ['-bad'] }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runSetVariable(ctx, { name: 'A', value: 'x' }))).toMatchObject({ exitCode: 2, code: 'usage' });
    expect(hub.requests).toHaveLength(0);
  });

  it('--set creates a variable set that does not exist yet', async () => {
    const fake = fakeVariables({ apiKey: KEY });
    const { ctx, stdout, hub } = await setup(fake.handler);
    await runSetVariable(ctx, { set: 'Common Db', name: 'Db.Port', value: '5432' });
    expect(hub.requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual(['GET /api/v1/variable-sets/Common%20Db', 'PUT /api/v1/variable-sets/Common%20Db']);
    expect(fake.sets.get('Common Db')).toEqual([{ name: 'Db.Port', value: '5432' }]);
    expect(stdout()).toBe('added Db.Port = 5432 to variable set Common Db\n');
  });

  it("passes the hub's refusals through: 400 unknown-scope exit 2, 404 exit 1, 401 exit 3", async () => {
    const fake = acme();
    const { ctx, hub } = await setup(async (req, res, recorded) => {
      if (req.method === 'PUT') {
        req.resume();
        return sendError(res, 400, 'unknown-scope', 'Db.Host: the scope names an environment that does not exist: Prod.', { name: 'Db.Host', environments: ['Prod'] });
      }
      return fake.handler(req, res, recorded);
    });
    expect(await failure(runSetVariable(ctx, { project: 'Acme', name: 'Db.Host', value: 'x', environment: ['Prod'] }))).toEqual({
      exitCode: 2,
      code: 'unknown-scope',
      message: 'Db.Host: the scope names an environment that does not exist: Prod.',
      details: { name: 'Db.Host', environments: ['Prod'] },
    });
    expect(await failure(runSetVariable(ctx, { project: 'Nope', name: 'A', value: 'x' }))).toMatchObject({ exitCode: 1, code: 'project-not-found' });
    const other = testContext(createTestIo({ cwd: '/' }).io, { hub: hub.url, apiKey: 'wrong' });
    expect(await failure(runSetVariable(other, { project: 'Acme', name: 'A', value: 'x' }))).toMatchObject({ exitCode: 3, code: 'unauthorized' });
  });
});

describe('cuttle variables remove', () => {
  const setup = fakeHubSetup({ apiKey: KEY });

  it('removes the value with exactly that scope; --all-scopes every value of the name', async () => {
    const fake = acme();
    const { ctx, stdout } = await setup(fake.handler);
    await runRemoveVariable(ctx, { project: 'Acme', name: 'Db.Host', environment: ['Test'] });
    expect(fake.projects.get('Acme')?.map((v) => `${v.name}:${v.value}`)).toEqual(['Db.Host:prod-db.internal', `Db.Password:${SECRET}`, 'App.Url:https://acme.example']);
    await runRemoveVariable(ctx, { project: 'Acme', name: 'App.Url' });
    fake.projects.get('Acme')?.push({ name: 'Db.Host', value: 'x' });
    await runRemoveVariable(ctx, { project: 'Acme', name: 'Db.Host', allScopes: true });
    expect(fake.projects.get('Acme')).toEqual([STORED[2]]);
    expect(stdout()).toBe('removed Db.Host (environments: Test) from project Acme\nremoved App.Url from project Acme\nremoved 2 values of Db.Host from project Acme\n');
  });

  it('nothing with that name and scope: variable-not-found (exit 1) naming the scopes there are, nothing sent', async () => {
    const fake = acme();
    const { ctx, hub } = await setup(fake.handler);
    const report = await failure(runRemoveVariable(ctx, { project: 'Acme', name: 'Db.Host' }));
    expect(report).toMatchObject({ exitCode: 1, code: 'variable-not-found', details: { name: 'Db.Host', scope: null, scopes: ['environments: Test', 'environments: Production'] } });
    expect(report.message).toBe('project Acme has no unscoped value of Db.Host; the values of Db.Host it has are scoped: environments: Test | environments: Production');
    expect(await failure(runRemoveVariable(ctx, { project: 'Acme', name: 'Nope', allScopes: true }))).toMatchObject({ exitCode: 1, code: 'variable-not-found' });
    expect(await failure(runRemoveVariable(ctx, { project: 'Acme', name: 'A', allScopes: true, role: ['web'] }))).toMatchObject({ exitCode: 2, code: 'usage' });
    expect(hub.requests.every((r) => r.method === 'GET')).toBe(true);
  });
});

describe('cuttle variables import', () => {
  const setup = fakeHubSetup({ apiKey: KEY });
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  async function withCwd(fake: FakeVariables, json = false) {
    const s = await setup(fake.handler, json);
    const t = createTestIo({ cwd: dir });
    return { ...t, ctx: testContext(t.io, { hub: s.hub.url, apiKey: KEY, json }), hub: s.hub };
  }

  it('merges by name and scope by default; --replace makes the file the whole list; secrets given as the mask are kept', async () => {
    await writeFile(
      path.join(dir, 'vars.yaml'),
      [
        'variables:',
        '  - { name: Db.Host, value: prod-db2.internal, scope: { environments: [Production] } }',
        '  - { name: Db.Password, value: "********", scope: { environments: [Production] } }',
        '  - { name: Features:Beta, value: "true", scope: { environments: [Test] } }',
        '',
      ].join('\n'),
    );
    const fake = acme();
    const { ctx, stdout } = await withCwd(fake);
    expect(await runImportVariables(ctx, { project: 'Acme', file: 'vars.yaml' })).toEqual({ added: 1, updated: 2, removed: 0, total: 5 });
    expect(fake.projects.get('Acme')).toEqual([STORED[0], { ...STORED[1], value: 'prod-db2.internal' }, STORED[2], STORED[3], { name: 'Features:Beta', value: 'true', scope: { environments: ['Test'] } }]);
    expect(stdout()).toBe('imported vars.yaml into project Acme: 1 added, 2 updated; 5 variables in all\n');

    const json = await withCwd(fake, true);
    await runImportVariables(json.ctx, { project: 'Acme', file: 'vars.yaml', replace: true });
    expect(fake.projects.get('Acme')).toEqual([{ ...STORED[1], value: 'prod-db2.internal' }, STORED[2], { name: 'Features:Beta', value: 'true', scope: { environments: ['Test'] } }]);
    expect(JSON.parse(json.stdout())).toEqual({ project: 'Acme', file: 'vars.yaml', mode: 'replace', added: 0, updated: 3, removed: 2, total: 3 });
  });

  it('takes a bare JSON list, and the output of list --json', async () => {
    await writeFile(path.join(dir, 'bare.json'), JSON.stringify([{ name: 'A', value: '1' }]));
    await writeFile(path.join(dir, 'set.json'), JSON.stringify({ name: 'Common', variables: [{ name: 'B', value: '2', sensitive: true }], updatedAt: '2025-01-01T00:00:00Z' }));
    const fake = fakeVariables({ apiKey: KEY });
    const { ctx } = await withCwd(fake);
    await runImportVariables(ctx, { set: 'Common', file: 'bare.json' });
    await runImportVariables(ctx, { set: 'Common', file: 'set.json' });
    expect(fake.sets.get('Common')).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '2', sensitive: true }]);
  });

  it('an invalid file lists every problem by index and name, exits 2 and sends nothing', async () => {
    await writeFile(
      path.join(dir, 'bad.yaml'),
      [
        'variables:',
        '  - { name: "Db Host", value: x }',
        '  - { name: Db.Port, value: 5432 }',
        '  - { name: Url, value: a, scope: { environment: [Test] } }',
        '  - { name: Url, value: b, scope: { environments: [Test] } }',
        '  - { name: Url, value: c, scope: { environments: [Test] } }',
        '  - { value: orphan }',
        '',
      ].join('\n'),
    );
    const fake = acme();
    const { ctx, hub } = await withCwd(fake);
    const report = await failure(runImportVariables(ctx, { project: 'Acme', file: 'bad.yaml' }));
    expect(report).toMatchObject({ exitCode: 2, code: 'invalid-variables', message: 'bad.yaml is not a valid variable list (5 problems); nothing was sent' });
    expect(report.details?.fields).toEqual([
      { field: 'variables.0 (Db Host)', message: 'name: letters, digits, ".", ":", "_", "-"; 1-200 characters' },
      { field: 'variables.1 (Db.Port)', message: expect.stringContaining('value: ') as unknown },
      { field: 'variables.2 (Url)', message: 'scope: unknown field environment' },
      { field: 'variables.4 (Url)', message: 'the same name and scope as variables.3 (environments: Test); give each value once' },
      { field: 'variables.5', message: expect.stringContaining('name: ') as unknown },
    ]);
    await writeFile(path.join(dir, 'broken.yaml'), 'variables: [\n');
    expect(await failure(runImportVariables(ctx, { project: 'Acme', file: 'broken.yaml' }))).toMatchObject({ exitCode: 2, code: 'invalid-variables-file', details: { file: 'broken.yaml' } });
    await writeFile(path.join(dir, 'odd.yaml'), 'vars: []\n');
    expect(await failure(runImportVariables(ctx, { project: 'Acme', file: 'odd.yaml' }))).toMatchObject({ exitCode: 2, code: 'invalid-variables-file' });
    expect(await failure(runImportVariables(ctx, { project: 'Acme', file: 'missing.yaml' }))).toMatchObject({ exitCode: 2, code: 'file-not-found' });
    expect(hub.requests).toHaveLength(0);
  });
});

describe('cuttle variables preview', () => {
  const setup = fakeHubSetup({ apiKey: KEY });
  const PREVIEW: VariablePreview = {
    project: 'Acme',
    environment: 'Production',
    machine: 'web-p1',
    roles: ['web-server'],
    variables: [
      { name: 'Db.Host', value: 'prod-db.internal', sensitive: false, source: { kind: 'project', set: null, scope: { environments: ['Production'] }, matchedBy: 'environment' } },
      { name: 'Db.Password', value: '********', sensitive: true, source: { kind: 'project', set: null, scope: { environments: ['Production'], machines: ['web-p1'] }, matchedBy: 'machine' } },
      { name: 'Db.Port', value: '5432', sensitive: false, source: { kind: 'variable-set', set: 'Common Db', scope: null, matchedBy: 'unscoped' } },
      { name: 'Cuttle.Environment.Name', value: 'Production', sensitive: false, source: { kind: 'built-in', set: null, scope: null, matchedBy: 'unscoped' } },
    ],
  };

  it('asks for the target and prints name, value, from and matched by', async () => {
    let query = '';
    const fake = fakeVariables({ apiKey: KEY, preview: (_project, params) => ((query = params.toString()), PREVIEW) });
    const { ctx, stdout } = await setup(fake.handler);
    await runPreviewVariables(ctx, { project: 'Acme', environment: 'Production', machine: 'web-p1', role: ['web-server,api', 'web-server'] });
    expect(query).toBe('environment=Production&machine=web-p1&role=web-server&role=api');
    expect(stdout()).toBe(
      [
        'Acme in Production on web-p1 (roles web-server): 4 variables',
        'NAME                     VALUE             FROM           MATCHED BY',
        'Db.Host                  prod-db.internal  project        environment (environments: Production)',
        'Db.Password              ********          project        machine (environments: Production; machines: web-p1)',
        'Db.Port                  5432              set Common Db  unscoped',
        'Cuttle.Environment.Name  Production        built-in       -',
        '',
      ].join('\n'),
    );
    const json = await setup(fake.handler, true);
    await runPreviewVariables(json.ctx, { project: 'Acme', environment: 'Production' });
    expect(JSON.parse(json.stdout())).toEqual(PREVIEW);
    expect(query).toBe('environment=Production');
  });

  it('bad names are exit 2 before any request; hub errors pass through', async () => {
    const { ctx, hub } = await setup(async (req, res) => {
      req.resume();
      sendError(res, 404, 'environment-not-found', 'No environment is named "Prod".', { name: 'Prod' });
    });
    expect(await failure(runPreviewVariables(ctx, { project: 'Acme', environment: 'bad/env' }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(hub.requests).toHaveLength(0);
    expect(await failure(runPreviewVariables(ctx, { project: 'Acme', environment: 'Prod' }))).toMatchObject({ exitCode: 1, code: 'environment-not-found' });
  });
});
