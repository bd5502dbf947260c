import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvironmentSchema, ErrorBodySchema } from '@cuttle/shared';
import { DeploymentFixture } from '../deployments/testing/deployment-fixture.js';

describe('renaming an environment', () => {
  let f: DeploymentFixture;
  let base: string;
  const patch = async (name: string, body: unknown) => {
    const response = await fetch(`${base}/api/v1/environments/${encodeURIComponent(name)}`, {
      method: 'PATCH',
      headers: { 'X-Api-Key': f.adminKey, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  beforeEach(async () => {
    f = new DeploymentFixture();
    f.environment('Test', 'QA');
    f.machine('web-1', ['web'], ['Test', 'QA']);
    f.pkg('Acme.Web', '1.0.0');
    f.project('Shop', [{ name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'] }]);
    f.release('Shop', '1.0.0');
    f.jobs.autoFinish = () => ({});
    base = await f.listen();
  });
  afterEach(async () => {
    await f.close();
  });

  it('refuses with 409 environment-in-use once a deployment targeted it, saying why, and leaves it as it was', async () => {
    const deployment = f.deployments.create({ project: 'Shop', release: '1.0.0', environment: 'Test' }, 'tester');
    await f.runner.whenDone(deployment.taskId);
    for (const name of ['Acceptance', 'test']) {
      const refused = await patch('Test', { name });
      expect(refused.status).toBe(409);
      const error = ErrorBodySchema.parse(refused.body).error;
      expect(error.code).toBe('environment-in-use');
      expect(error.message).toContain('deployment(s) refer to it by name');
      expect(error.message).toContain("the tentacles' install folders");
    }
    expect(f.environments.get('Test').name).toBe('Test');
    // what does not touch the name still works
    const described = await patch('Test', { name: 'Test', description: 'first stage', position: 1 });
    expect(described.status).toBe(200);
    expect(EnvironmentSchema.parse(described.body)).toMatchObject({ name: 'Test', description: 'first stage', position: 1 });
  });

  it('still renames an environment nothing was deployed to', async () => {
    const deployment = f.deployments.create({ project: 'Shop', release: '1.0.0', environment: 'Test' }, 'tester');
    await f.runner.whenDone(deployment.taskId);
    const renamed = await patch('QA', { name: 'Acceptance' });
    expect(renamed.status).toBe(200);
    expect(EnvironmentSchema.parse(renamed.body).name).toBe('Acceptance');
  });
});
