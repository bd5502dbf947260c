import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorBodySchema, VariableListSchema, type Step } from '@cuttle/shared';
import { DeploymentFixture } from '../deployments/testing/deployment-fixture.js';
import { JOB_VARIABLES_LIMIT_BYTES } from './job-size.js';
import { VariableRepository } from './variable-repository.js';

const steps: Step[] = [{ name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'] }];

describe('the variables API guards', () => {
  let f: DeploymentFixture;
  let base: string;
  const call = async (route: string, method = 'GET', json?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}/api/v1${route}`, {
      method,
      headers: { 'X-Api-Key': f.adminKey, ...(json === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: json === undefined ? null : JSON.stringify(json),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? null : (JSON.parse(text) as unknown) };
  };
  const error = (body: unknown) => ErrorBodySchema.parse(body).error;
  const projectId = () => (f.db.prepare('SELECT id FROM projects WHERE name = ?').get('Shop') as { id: number }).id;

  beforeEach(async () => {
    f = new DeploymentFixture();
    f.environment('Test', 'QA', 'Spare');
    f.machine('web-1', ['web'], ['Test']);
    f.machine('web-2', ['web', 'cache'], ['QA']);
    f.pkg('Acme.Web', '1.0.0');
    f.project('Shop', steps);
    base = await f.listen();
  });
  afterEach(async () => {
    await f.close();
  });

  it('refuses to rename or remove an environment that variables, sets or release snapshots name', async () => {
    expect((await call('/projects/Shop/variables', 'PUT', [{ name: 'A', value: 'x', scope: { environments: ['Test'] } }])).status).toBe(200);
    expect((await call('/variable-sets/Common', 'PUT', [{ name: 'B', value: 'y', scope: { environments: ['test'] } }])).status).toBe(201);
    const renamed = await call('/environments/Test', 'PATCH', { name: 'Testing' });
    expect(renamed.status).toBe(409);
    expect(error(renamed.body)).toMatchObject({ code: 'environment-in-use', details: { projects: ['Shop'], variableSets: ['Common'] } });
    expect(error(renamed.body).message).toMatch(/project\(s\) Shop.*variable set\(s\) Common/);
    expect(error((await call('/environments/Test', 'DELETE')).body).code).toBe('environment-in-use');
    // a change of case changes nothing scopes match, and an environment nothing names is free
    expect((await call('/environments/Test', 'PATCH', { name: 'TEST' })).status).toBe(200);
    expect((await call('/environments/Spare', 'PATCH', { name: 'Spare2' })).status).toBe(200);
    expect((await call('/environments/Spare2', 'DELETE')).status).toBe(204);
    // a release snapshot keeps naming it until refreshed
    f.release('Shop', '1.0.0');
    await call('/projects/Shop/variables', 'PUT', [{ name: 'A', value: 'x' }]);
    await call('/variable-sets/Common', 'DELETE');
    expect(error((await call('/environments/TEST', 'PATCH', { name: 'Testing' })).body)).toMatchObject({ code: 'environment-in-use', details: { releases: ['Shop 1.0.0'] } });
    expect((await call('/projects/Shop/releases/1.0.0/snapshot-variables', 'POST')).status).toBe(200);
    expect((await call('/environments/TEST', 'PATCH', { name: 'Testing' })).status).toBe(200);
  });

  it('checks only new scope names: names of a removed machine or role never block an edit', async () => {
    const list = [
      { name: 'A', value: 'one', scope: { machines: ['web-2'] } },
      { name: 'B', value: 'two', scope: { roles: ['cache'] } },
    ];
    expect((await call('/projects/Shop/variables', 'PUT', list)).status).toBe(200);
    f.machines.remove('web-2');
    const again = await call('/projects/Shop/variables', 'PUT', [...list, { name: 'C', value: 'three' }]);
    expect(again.status).toBe(200);
    expect(VariableListSchema.parse(again.body).variables[0]).toMatchObject({ scope: { machines: ['web-2'] } });
    expect(error((await call('/projects/Shop/variables', 'PUT', [...list, { name: 'C', value: 'x', scope: { machines: ['web-9'] } }])).body).code).toBe('unknown-scope');
  });

  it('refuses a cycle closed by including a set in the project, and on snapshot refresh', async () => {
    await call('/variable-sets/Common', 'PUT', [{ name: 'Host', value: '#{Url}' }]);
    await call('/projects/Shop/variables', 'PUT', [{ name: 'Url', value: 'https://#{Host}/' }]);
    const put = await call('/projects/Shop', 'PUT', { steps, variableSets: ['Common'] });
    expect([put.status, error(put.body).code]).toEqual([400, 'variable-cycle']);
    expect(f.projects.get('Shop').variableSets).toBeUndefined();
    // a cycle stored before the checks: a refresh does not copy it into the release
    f.release('Shop', '1.0.0');
    new VariableRepository(f.db).replaceProjectVariables(projectId(), [
      { name: 'A', value: '#{B}', secret: null, scope: null },
      { name: 'B', value: '#{A}', secret: null, scope: null },
    ]);
    expect(error((await call('/projects/Shop/releases/1.0.0/snapshot-variables', 'POST')).body).code).toBe('variable-cycle');
  });

  it('refuses variables that could not fit in a job, for a project and for a set a project includes', async () => {
    const big = 'x'.repeat(100 * 1024);
    const refused = await call('/projects/Shop/variables', 'PUT', [{ name: 'A', value: big }, { name: 'B', value: big }]);
    expect(refused.status).toBe(413);
    expect(error(refused.body)).toMatchObject({ code: 'variables-too-large', details: { limit: JOB_VARIABLES_LIMIT_BYTES } });
    expect((error(refused.body).details as { size: number }).size).toBeGreaterThan(JOB_VARIABLES_LIMIT_BYTES);
    // two values of one name count once: only one reaches a target
    expect((await call('/projects/Shop/variables', 'PUT', [{ name: 'A', value: big }, { name: 'A', value: big, scope: { environments: ['QA'] } }])).status).toBe(200);
    expect((await call('/variable-sets/Common', 'PUT', [{ name: 'B', value: 'small' }])).status).toBe(201);
    expect((await call('/projects/Shop', 'PUT', { steps, variableSets: ['Common'] })).status).toBe(200);
    expect(error((await call('/variable-sets/Common', 'PUT', [{ name: 'B', value: big }])).body).code).toBe('variables-too-large');
    // references count expanded
    expect(error((await call('/variable-sets/Common', 'PUT', [{ name: 'B', value: '#{A}' }])).body).code).toBe('variables-too-large');
  });

  it('refuses values that grow too long through references, and takes long chains without an internal error', async () => {
    const chain = Array.from({ length: 3000 }, (_, i) => ({ name: `V${i}`, value: i === 2999 ? 'end' : `#{V${i + 1}}` }));
    expect((await call('/projects/Shop/variables', 'PUT', chain)).status).toBe(200);
    const doubling = [{ name: 'D0', value: 'xxxxxxxx' }];
    for (let i = 1; i <= 32; i++) doubling.push({ name: `D${i}`, value: `#{D${i - 1}}#{D${i - 1}}` });
    const refused = await call('/projects/Shop/variables', 'PUT', doubling);
    expect(refused.status).toBe(400);
    expect(error(refused.body)).toMatchObject({ code: 'invalid-request', details: { name: 'D18', limit: 1024 * 1024 } });
  });

  it('answers an ETag and refuses a PUT whose If-Match is stale with 412 variables-changed', async () => {
    const first = await call('/projects/Shop/variables');
    const tag = first.headers.get('etag');
    expect(tag).toMatch(/^".+"$/);
    const saved = await call('/projects/Shop/variables', 'PUT', [{ name: 'A', value: '1' }], { 'If-Match': tag! });
    expect(saved.status).toBe(200);
    const newTag = saved.headers.get('etag');
    expect(newTag).not.toBe(tag);
    expect((await call('/projects/Shop/variables')).headers.get('etag')).toBe(newTag);
    const stale = await call('/projects/Shop/variables', 'PUT', [{ name: 'A', value: '2' }], { 'If-Match': tag! });
    expect([stale.status, error(stale.body).code]).toEqual([412, 'variables-changed']);
    expect(VariableListSchema.parse((await call('/projects/Shop/variables')).body).variables[0]?.value).toBe('1');
    expect((await call('/projects/Shop/variables', 'PUT', [{ name: 'A', value: '3' }])).status).toBe(200);
    // sets: a set that does not exist matches no If-Match
    expect((await call('/variable-sets/Common', 'PUT', [{ name: 'B', value: '1' }], { 'If-Match': '*' })).status).toBe(412);
    const created = await call('/variable-sets/Common', 'PUT', [{ name: 'B', value: '1' }]);
    const setTag = created.headers.get('etag');
    expect((await call('/variable-sets/Common')).headers.get('etag')).toBe(setTag);
    expect((await call('/variable-sets/Common', 'PUT', [{ name: 'B', value: '2' }], { 'If-Match': `W/${setTag!}` })).status).toBe(200);
    expect(error((await call('/variable-sets/Common', 'PUT', [{ name: 'B', value: '3' }], { 'If-Match': setTag! })).body).code).toBe('variables-changed');
  });

  it('tells in a header which references a preview left as they are', async () => {
    await call('/projects/Shop/variables', 'PUT', [
      { name: 'Db.Host', value: 'db', scope: { environments: ['QA'] } },
      { name: 'Db.Connection', value: 'Host=#{Db.Host}' },
    ]);
    const preview = await call('/projects/Shop/variables/preview?environment=Test');
    expect(preview.headers.get('x-cuttle-warnings')).toBe('Db.Connection refers to #{Db.Host}, which has no value for this target; left as is');
    expect((await call('/projects/Shop/variables/preview?environment=QA')).headers.get('x-cuttle-warnings')).toBeNull();
  });
});
