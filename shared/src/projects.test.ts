import { describe, expect, it } from 'vitest';
import { CreateReleaseRequestSchema, DeployPackageStepSchema, ProjectDefinitionSchema } from './projects.js';

const step = (more: Record<string, unknown> = {}) => ({ name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'], ...more });
const messages = (result: { success: boolean; error?: { issues: { message: string }[] } }): string[] => result.error?.issues.map((i) => i.message) ?? [];

describe('DeployPackageStepSchema package', () => {
  it.each(['Acme.Web', 'a', 'Acme_Web-2.x', 'a'.repeat(100)])('accepts %j', (id) => {
    expect(DeployPackageStepSchema.safeParse(step({ package: id })).success).toBe(true);
  });

  it.each(['a..b', 'Acme.', '.a', '-a', 'a/b', 'a b', '', 'ä', 'a'.repeat(101)])('refuses %j with a clear message', (id) => {
    const result = DeployPackageStepSchema.safeParse(step({ package: id }));
    expect(result.success).toBe(false);
    expect(messages(result).join('\n')).toMatch(/package id.*no "\.\."/);
  });

  it('applies the same rule to the package ids of a release request', () => {
    expect(CreateReleaseRequestSchema.safeParse({ packages: { 'Acme.Web': '1.0.0' } }).success).toBe(true);
    expect(CreateReleaseRequestSchema.safeParse({ packages: { 'Acme..Web': '1.0.0' } }).success).toBe(false);
    expect(CreateReleaseRequestSchema.safeParse({ packages: { 'Acme.': '1.0.0' } }).success).toBe(false);
  });
});

describe('DeployPackageStepSchema installDir', () => {
  it.each(['/srv/acme', '/opt/app/current', '/a', '/srv/my..app', '/srv/.hidden', '/srv/a.b/c'])('accepts %j', (installDir) => {
    expect(DeployPackageStepSchema.safeParse(step({ installDir })).success).toBe(true);
  });

  it.each<[string, RegExp]>([
    ['srv/acme', /absolute/],
    ['', /./],
    ['/', /root/],
    ['/srv/\0x', /NUL/],
    ['/srv/../etc', /"\.\."/],
    ['/..', /"\.\."/],
    ['/srv/./acme', /"\."/],
    ['/srv/acme/.', /"\."/],
    ['//srv', /empty segments/],
    ['/srv//acme', /empty segments/],
    ['/srv/acme/', /end with "\/"/],
    ['C:\\srv', /absolute/],
    ['/' + 'a'.repeat(4096), /./],
  ])('refuses %j', (installDir, message) => {
    const result = DeployPackageStepSchema.safeParse(step({ installDir }));
    expect(result.success).toBe(false);
    expect(messages(result).join('\n')).toMatch(message);
  });

  it('is optional and checked inside a whole project definition', () => {
    expect(ProjectDefinitionSchema.safeParse({ steps: [step()] }).success).toBe(true);
    const result = ProjectDefinitionSchema.safeParse({ steps: [step({ installDir: '/srv/../etc' })] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['steps', 0, 'installDir']);
  });
});
