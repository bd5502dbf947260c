import { describe, expect, it } from 'vitest';
import { JobSchema, type Step } from '@cuttle/shared';
import { buildJob, planTargets, slotOf } from './job-builder.js';

const pkg = (name: string, extra: Partial<Extract<Step, { type: 'deploy-package' }>> = {}): Step => ({ name, type: 'deploy-package', package: 'App', roles: ['web'], ...extra });

describe('job building', () => {
  it('names the main app slot null and later package steps by a folder-safe form of their name', () => {
    const steps: Step[] = [
      { name: 'Prepare', type: 'run-script', roles: ['web'], script: 'true' },
      pkg('Deploy web'),
      pkg('Deploy api/v2'),
      pkg('..'),
      pkg('Deploy-api-v2'),
    ];
    expect([1, 2, 3, 4].map((i) => slotOf(steps, i))).toEqual([null, 'Deploy-api-v2', '__', 'Deploy-api-v2-5']);
  });

  it('builds valid jobs with the defaults and the step settings', () => {
    const steps: Step[] = [pkg('Deploy', { installDir: '/srv/app' }), { name: 'Smoke', type: 'run-script', roles: ['web'], script: 'curl x' }];
    const context = { deploymentId: 1, taskId: 2, project: 'Shop', release: '1.0.0', environment: 'Test env', machine: 'web-1' };
    const packages = [{ id: 'app', version: '1.2.3', sha256: 'b'.repeat(64), size: 10 }];
    const deployJob = JobSchema.parse(buildJob(context, steps, 0, packages));
    expect(deployJob).toMatchObject({ kind: 'deploy-package', installDir: '/srv/app', retain: 3, scriptTimeoutSeconds: 1800, package: { id: 'app', version: '1.2.3' } });
    expect(JobSchema.parse(buildJob(context, steps, 1, packages))).toMatchObject({ kind: 'run-script', timeoutSeconds: 1800, script: 'curl x' });
  });

  it('plans only machines that share a role with a step (case-insensitive)', () => {
    const steps: Step[] = [pkg('Deploy'), { name: 'Db', type: 'run-script', roles: ['DB'], script: 'true' }];
    expect(
      planTargets(steps, [
        { name: 'a', roles: ['web'] },
        { name: 'b', roles: ['db'] },
        { name: 'c', roles: ['cache'] },
      ]),
    ).toEqual([
      { machine: 'a', steps: ['Deploy'] },
      { machine: 'b', steps: ['Db'] },
    ]);
  });
});
