import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobSchema, SENSITIVE_MASK, type Job, type Step } from '@cuttle/shared';
import { VariableRepository } from '../variables/variable-repository.js';
import { DeploymentFixture } from './testing/deployment-fixture.js';

const SECRET = 'pa55-w0rd-for-prod';
const steps: Step[] = [
  { name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'], substituteIn: ['config/*.json'], structuredVariables: ['appsettings.json'] },
  { name: 'Smoke', type: 'run-script', roles: ['web', 'db'], script: 'true' },
];
const vars = (job: Job) => new Map((job.variables ?? []).map((v) => [v.name, v]));

describe('variables in deployments', () => {
  let f: DeploymentFixture;

  const deploy = async (release: string, environment: string) => {
    const deployment = f.deployments.create({ project: 'Shop', release, environment }, 'tester');
    await f.runner.whenDone(deployment.taskId);
    return deployment;
  };

  beforeEach(() => {
    f = new DeploymentFixture();
    f.environment('Test', 'Production');
    f.machine('web-test', ['web'], ['Test']);
    f.machine('web-prod', ['web'], ['Production']);
    f.pkg('Acme.Web', '1.0.0');
    f.project('Shop', steps);
    f.jobs.autoFinish = () => ({});
  });
  afterEach(async () => {
    await f.close();
  });

  it('gives each job its resolved variables, the built-ins, the step settings and every environment', async () => {
    f.variables.putProjectVariables('Shop', [
      { name: 'Conn', value: 'Server=test' },
      { name: 'Conn', value: 'Server=prod;Password=#{Db.Password}', scope: { environments: ['Production'] } },
      { name: 'Db.Password', value: SECRET, sensitive: true, scope: { environments: ['Production'] } },
      { name: 'Tag', value: '#{Cuttle.Package.Id}@#{Cuttle.Package.Version} on #{Cuttle.Machine.Name}' },
    ]);
    f.release('Shop', '1.0.0');
    const deployment = await deploy('1.0.0', 'Production');
    const [deployJob, scriptJob] = f.jobs.runs.map((r) => JobSchema.parse(r.job));
    expect(deployJob).toMatchObject({ kind: 'deploy-package', substituteIn: ['config/*.json'], structuredVariables: ['appsettings.json'], environments: ['Test', 'Production'] });
    const d = vars(deployJob!);
    expect(d.get('Conn')).toEqual({ name: 'Conn', value: `Server=prod;Password=${SECRET}`, sensitive: true });
    expect(d.get('Db.Password')).toEqual({ name: 'Db.Password', value: SECRET, sensitive: true });
    expect(d.get('Tag')?.value).toBe('Acme.Web@1.0.0 on web-prod');
    expect(Object.fromEntries([...d].filter(([name]) => name.startsWith('Cuttle.')).map(([name, v]) => [name, v.value]))).toEqual({
      'Cuttle.Project.Name': 'Shop',
      'Cuttle.Release.Number': '1.0.0',
      'Cuttle.Environment.Name': 'Production',
      'Cuttle.Machine.Name': 'web-prod',
      'Cuttle.Machine.Roles': 'web',
      'Cuttle.Package.Id': 'Acme.Web',
      'Cuttle.Package.Version': '1.0.0',
      'Cuttle.Deployment.Id': String(deployment.id),
    });
    expect(scriptJob?.kind).toBe('run-script');
    const s = vars(scriptJob!);
    expect(s.has('Cuttle.Package.Id')).toBe(false);
    expect(s.get('Tag')?.value).toBe('#{Cuttle.Package.Id}@#{Cuttle.Package.Version} on web-prod');
  });

  it("masks the task's secrets in every log line and target error before it is stored or streamed", async () => {
    f.variables.putProjectVariables('Shop', [{ name: 'Db.Password', value: SECRET, sensitive: true }]);
    f.release('Shop', '1.0.0');
    const streamed: string[] = [];
    f.jobs.autoFinish = (run) => {
      run.handlers.onLog([
        { at: new Date().toISOString(), stream: 'stdout', text: `connecting with ${SECRET} twice ${SECRET}` },
        { at: new Date().toISOString(), stream: 'stdout', text: SECRET.slice(0, 6) },
        { at: new Date().toISOString(), stream: 'stdout', text: SECRET.slice(6) },
      ]);
      return { outcome: 'failed', error: { code: 'script-failed', message: `Deploy.sh printed ${SECRET}` } };
    };
    const deployment = f.deployments.create({ project: 'Shop', release: '1.0.0', environment: 'Test' }, 'tester');
    const followed = f.tasks.followLog(deployment.taskId, 0, { write: (entries) => void streamed.push(...entries.map((e) => e.text)) });
    await f.runner.whenDone(deployment.taskId);
    await followed;
    const stored = f.tasks.readLog(deployment.taskId, 0, 1000).map((e) => e.text);
    const all = [...stored, ...streamed].join('\n');
    expect(all).not.toContain(SECRET);
    expect(stored).toContain(`connecting with ${SENSITIVE_MASK} twice ${SENSITIVE_MASK}`);
    // per line: the two halves of a split secret are not recognised (documented)
    expect(stored).toContain(SECRET.slice(0, 6));
    const task = f.tasks.get(deployment.taskId);
    expect(JSON.stringify(task)).not.toContain(SECRET);
    expect(JSON.stringify(task)).toContain(SENSITIVE_MASK);
  });

  it('fails a target with configuration-failed when its variables tie at deploy time', async () => {
    // no machine has both roles when the variables are saved ...
    f.variables.putProjectVariables('Shop', [
      { name: 'Port', value: '80', scope: { roles: ['web'] } },
      { name: 'Port', value: '5432', scope: { roles: ['db'] } },
    ]);
    f.release('Shop', '1.0.0');
    // ... then one that has both joins
    f.machine('both', ['web', 'db'], ['Test']);
    const deployment = await deploy('1.0.0', 'Test');
    const task = f.tasks.get(deployment.taskId);
    expect(task.state).toBe('failed');
    const target = task.targets.find((t) => t.machine === 'both');
    expect(target).toMatchObject({ state: 'failed', errorCode: 'configuration-failed' });
    expect(target?.error).toMatch(/Port.*roles web.*roles db/);
  });

  /** Writes the release's snapshot as it is, as one saved before the checks at save time existed. */
  const writeSnapshot = (version: string, values: Array<{ name: string; value: string }>) => {
    const { id } = f.db.prepare('SELECT r.id FROM releases r JOIN projects p ON p.id = r.project_id WHERE p.name = ? AND r.version = ?').get('Shop', version) as { id: number };
    new VariableRepository(f.db).saveSnapshot(id, values.map((v) => ({ ...v, secret: null, scope: null, source: 0, setName: null })), new Date().toISOString());
  };

  it('fails a target with configuration-failed when its variables make the job too large to send', async () => {
    f.release('Shop', '1.0.0');
    writeSnapshot('1.0.0', [
      { name: 'Big', value: 'x'.repeat(200 * 1024) },
      { name: 'Bigger', value: '#{Big}#{Big}' },
    ]);
    const deployment = await deploy('1.0.0', 'Test');
    expect(f.jobs.runs).toHaveLength(0);
    const target = f.tasks.get(deployment.taskId).targets[0];
    expect(target).toMatchObject({ state: 'failed', errorCode: 'configuration-failed' });
    expect(target?.error).toMatch(/variables takes \d+ bytes/);
  });

  it('fails a target with configuration-failed, never an internal error, when a value would grow too long', async () => {
    f.release('Shop', '1.0.0');
    const doubling = [{ name: 'D0', value: 'xxxxxxxx' }];
    for (let i = 1; i <= 32; i++) doubling.push({ name: `D${i}`, value: `#{D${i - 1}}#{D${i - 1}}` });
    writeSnapshot('1.0.0', doubling);
    const deployment = await deploy('1.0.0', 'Test');
    expect(f.jobs.runs).toHaveLength(0);
    const target = f.tasks.get(deployment.taskId).targets[0];
    expect(target).toMatchObject({ state: 'failed', errorCode: 'configuration-failed' });
    expect(target?.error).toMatch(/D18 would be \d+ characters long/);
  });

  it('warns once per target in the task log about a reference with no value, and turns escapes into literal references', async () => {
    f.variables.putProjectVariables('Shop', [
      { name: 'Db.Host', value: 'db-prod', scope: { environments: ['Production'] } },
      { name: 'Db.Connection', value: 'Host=#{Db.Host};Doc=##{Db.Host}' },
    ]);
    f.release('Shop', '1.0.0');
    const deployment = await deploy('1.0.0', 'Test');
    const warnings = f.tasks.readLog(deployment.taskId, 0, 1000).filter((e) => e.stream === 'warn').map((e) => e.text);
    expect(warnings).toEqual(['web-test: Db.Connection refers to #{Db.Host}, which has no value for this target; left as is']);
    expect(vars(f.jobs.runs[0]!.job).get('Db.Connection')?.value).toBe('Host=#{Db.Host};Doc=#{Db.Host}');
    await deploy('1.0.0', 'Production');
    expect(vars(f.jobs.runs.at(-1)!.job).get('Db.Connection')?.value).toBe('Host=db-prod;Doc=#{Db.Host}');
  });

  it('deploys a release with its snapshot, also when the variables changed since', async () => {
    f.variables.putProjectVariables('Shop', [{ name: 'Color', value: 'blue' }]);
    f.release('Shop', '1.0.0');
    f.variables.putProjectVariables('Shop', [{ name: 'Color', value: 'green' }]);
    await deploy('1.0.0', 'Test');
    expect(vars(f.jobs.runs[0]!.job).get('Color')?.value).toBe('blue');
  });
});

