import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorBodySchema, ReleaseSchema, SENSITIVE_MASK, VariableListSchema, VariablePreviewSchema, VariableSetListSchema, type Step } from '@cuttle/shared';
import { DeploymentFixture } from '../deployments/testing/deployment-fixture.js';

const SECRET = 'Tr0ub4dor&3-unique-secret';
const steps: Step[] = [
  { name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'] },
  { name: 'Migrate', type: 'run-script', roles: ['db'], script: 'true' },
];

describe('the variables API', () => {
  let f: DeploymentFixture;
  let base: string;

  const call = async (route: string, method = 'GET', json?: unknown) => {
    const response = await fetch(`${base}/api/v1${route}`, {
      method,
      headers: { 'X-Api-Key': f.adminKey, ...(json === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: json === undefined ? null : JSON.stringify(json),
    });
    const text = await response.text();
    return { status: response.status, text, body: text === '' ? null : (JSON.parse(text) as unknown) };
  };
  const error = (body: unknown) => ErrorBodySchema.parse(body).error;

  beforeEach(async () => {
    f = new DeploymentFixture();
    f.environment('Test', 'Production');
    f.machine('web-test', ['web'], ['Test']);
    f.machine('web-prod', ['web'], ['Production']);
    f.pkg('Acme.Web', '1.0.0');
    f.project('Shop', steps);
    base = await f.listen();
  });
  afterEach(async () => {
    await f.close();
  });

  it('stores a list (wrapped or bare), answers it with secrets masked, and keeps a secret sent back as the mask', async () => {
    const list = [
      { name: 'Conn', value: 'Server=test', scope: { environments: ['test'] } },
      { name: 'Conn', value: 'Server=prod', scope: { environments: ['Production'] } },
      { name: 'Db.Password', value: SECRET, sensitive: true, scope: { environments: ['Production'] } },
    ];
    const put = await call('/projects/Shop/variables', 'PUT', list);
    expect(put.status).toBe(200);
    expect(put.text).not.toContain(SECRET);
    const saved = VariableListSchema.parse(put.body).variables;
    expect(saved[0]).toEqual({ name: 'Conn', value: 'Server=test', sensitive: false, scope: { environments: ['Test'] } });
    expect(saved[2]).toMatchObject({ name: 'Db.Password', value: SENSITIVE_MASK, sensitive: true });

    // the GET answer sent back as is keeps the secret
    const got = await call('/projects/Shop/variables');
    expect(got.text).not.toContain(SECRET);
    expect((await call('/projects/Shop/variables', 'PUT', got.body)).status).toBe(200);
    const values = f.variables.releaseValues('Shop', f.release('Shop', '1.0.0').version);
    expect(values.find((v) => v.name === 'Db.Password')?.value).toBe(SECRET);

    // the mask with no stored secret of that name and scope is refused
    const orphan = await call('/projects/Shop/variables', 'PUT', { variables: [{ name: 'Db.Password', value: SENSITIVE_MASK, sensitive: true }] });
    expect(orphan.status).toBe(400);
    expect(error(orphan.body)).toMatchObject({ code: 'invalid-request', details: { index: 0, name: 'Db.Password' } });
  });

  it('answers each kind of bad list with its code and names the variable', async () => {
    const cases: Array<[unknown, number, string]> = [
      [[{ name: 'bad name!', value: 'x' }], 400, 'invalid-request'],
      [[{ name: 'Cuttle.Release.Number', value: 'x' }], 400, 'reserved-variable'],
      [[{ name: 'A', value: 'x', scope: { environments: ['Staging'] } }], 400, 'unknown-scope'],
      [[{ name: 'A', value: 'x', scope: { roles: ['cache'] } }], 400, 'unknown-scope'],
      [[{ name: 'A', value: 'x', scope: { machines: ['nobody'] } }], 400, 'unknown-scope'],
      [[{ name: 'A', value: 'x' }, { name: 'A', value: 'y' }], 400, 'ambiguous-variable'],
      [[{ name: 'A', value: '#{B}' }, { name: 'B', value: '#{A}' }], 400, 'variable-cycle'],
    ];
    for (const [body, status, code] of cases) {
      const answer = await call('/projects/Shop/variables', 'PUT', body);
      expect([answer.status, error(answer.body).code]).toEqual([status, code]);
    }
    expect(error((await call('/projects/Shop/variables', 'PUT', [{ name: 'bad name!', value: 'x' }])).body).details).toMatchObject({
      fields: [{ field: 'variables.0.name' }], index: 0, name: 'bad name!',
    });
    // roles known from project steps count even with no machine having them
    expect((await call('/projects/Shop/variables', 'PUT', [{ name: 'A', value: 'x', scope: { roles: ['db'] } }])).status).toBe(200);
    expect((await call('/projects/Nope/variables')).status).toBe(404);
  });

  it('manages variable sets, checks project includes, and refuses to delete a set in use', async () => {
    expect(error((await call('/projects/Shop', 'PUT', { steps, variableSets: ['Common'] })).body).code).toBe('variable-set-not-found');
    const created = await call('/variable-sets/Common', 'PUT', { variables: [{ name: 'Smtp', value: 'mail.local' }, { name: 'Key', value: SECRET, sensitive: true }] });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(SECRET);
    expect((await call('/variable-sets/Common', 'PUT', [{ name: 'Smtp', value: 'mail2.local' }, { name: 'Key', value: SENSITIVE_MASK, sensitive: true }])).status).toBe(200);
    expect(VariableSetListSchema.parse((await call('/variable-sets')).body).items).toMatchObject([{ name: 'Common', variableCount: 2 }]);
    expect((await call('/projects/Shop', 'PUT', { steps, variableSets: ['common'] })).body).toMatchObject({ variableSets: ['Common'] });

    // a set may not close a cycle with a project that includes it
    expect((await call('/projects/Shop/variables', 'PUT', [{ name: 'Url', value: 'https://#{Smtp}' }])).status).toBe(200);
    expect(error((await call('/variable-sets/Common', 'PUT', [{ name: 'Smtp', value: '#{Url}' }])).body).code).toBe('variable-cycle');

    expect(error((await call('/variable-sets/Common', 'DELETE')).body)).toMatchObject({ code: 'variable-set-in-use', details: { projects: ['Shop'] } });
    await call('/projects/Shop', 'PUT', { steps });
    expect((await call('/variable-sets/Common', 'DELETE')).status).toBe(204);
    expect((await call('/variable-sets/Common')).status).toBe(404);
  });

  it('previews a target with built-ins, masked secrets and the source of each value', async () => {
    await call('/variable-sets/Common', 'PUT', [{ name: 'Conn', value: 'from-set' }, { name: 'Region', value: 'eu' }]);
    await call('/projects/Shop', 'PUT', { steps, variableSets: ['Common'] });
    await call('/projects/Shop/variables', 'PUT', [
      { name: 'Conn', value: 'Server=prod;Pwd=#{Db.Password}', scope: { environments: ['Production'] } },
      { name: 'Conn', value: 'machine-specific', scope: { machines: ['web-test'] } },
      { name: 'Db.Password', value: SECRET, sensitive: true },
    ]);
    const answer = await call('/projects/Shop/variables/preview?environment=Production&machine=web-prod');
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain(SECRET);
    const preview = VariablePreviewSchema.parse(answer.body);
    expect(preview).toMatchObject({ project: 'Shop', environment: 'Production', machine: 'web-prod', roles: ['web'] });
    const byName = new Map(preview.variables.map((v) => [v.name, v]));
    expect(byName.get('Conn')).toMatchObject({ value: SENSITIVE_MASK, sensitive: true, source: { kind: 'project', matchedBy: 'environment' } });
    expect(byName.get('Region')).toMatchObject({ value: 'eu', source: { kind: 'variable-set', set: 'Common', matchedBy: 'unscoped' } });
    expect(byName.get('Cuttle.Release.Number')).toMatchObject({ value: '(release)', source: { kind: 'built-in' } });
    expect(byName.get('Cuttle.Machine.Roles')?.value).toBe('web');

    const byRole = VariablePreviewSchema.parse((await call('/projects/Shop/variables/preview?environment=Test&role=web&role=db')).body);
    expect(byRole).toMatchObject({ machine: null, roles: ['web', 'db'] });
    expect(byRole.variables.find((v) => v.name === 'Conn')).toMatchObject({ value: 'from-set', source: { kind: 'variable-set' } });
    expect(error((await call('/projects/Shop/variables/preview?environment=Nowhere')).body).code).toBe('environment-not-found');
    expect(error((await call('/projects/Shop/variables/preview?environment=Test&machine=ghost')).body).code).toBe('machine-not-found');
    expect(error((await call('/projects/Shop/variables/preview?environment=Test&machine=web-prod')).body).code).toBe('machine-not-in-environment');
    expect(error((await call('/projects/Shop/variables/preview')).body).code).toBe('invalid-request');
  });

  it('snapshots the variables into a release and refreshes the snapshot on request', async () => {
    await call('/projects/Shop/variables', 'PUT', [{ name: 'Version', value: 'one' }]);
    f.release('Shop', '1.0.0');
    await call('/projects/Shop/variables', 'PUT', [{ name: 'Version', value: 'two' }]);
    expect(f.variables.releaseValues('Shop', '1.0.0').map((v) => v.value)).toEqual(['one']);
    const refreshed = await call('/projects/Shop/releases/1.0.0/snapshot-variables', 'POST');
    expect(refreshed.status).toBe(200);
    expect(ReleaseSchema.parse(refreshed.body).version).toBe('1.0.0');
    expect(f.variables.releaseValues('Shop', '1.0.0').map((v) => v.value)).toEqual(['two']);
    expect(error((await call('/projects/Shop/releases/9.9.9/snapshot-variables', 'POST')).body).code).toBe('release-not-found');
  });

  it('never writes a secret to the database file in plain text', async () => {
    await call('/projects/Shop/variables', 'PUT', [{ name: 'Db.Password', value: SECRET, sensitive: true }]);
    await call('/variable-sets/Common', 'PUT', [{ name: 'Other.Secret', value: `${SECRET}-set`, sensitive: true }]);
    f.release('Shop', '1.0.0');
    f.db.pragma('wal_checkpoint(PASSIVE)');
    const files = ['cuttle.db', 'cuttle.db-wal'].map((name) => path.join(f.dir, name));
    const bytes = Buffer.concat(files.map((file) => readFileSync(file)));
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    // the secret is stored: it comes back for deployments
    expect(f.variables.releaseValues('Shop', '1.0.0').find((v) => v.name === 'Db.Password')?.value).toBe(SECRET);
  });
});
