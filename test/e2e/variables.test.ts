import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployWorld } from '../support/deploy-fixture.js';

const SECRET_TEST = 'test-pa55-Zq8wX';
const SECRET_PROD = 'prod-s3cret-Kd7Lm2Vn';

const PROJECT_YAML = `
name: Shop
steps:
  - name: Deploy web
    type: deploy-package
    package: Shop.Web
    roles: [web-server]
    substituteIn: [appsettings.json, "conf/*.txt"]
    structuredVariables: [appsettings.json, conf/settings.yaml]
`;

const VARS_YAML = `
variables:
  - { name: Db.Host, value: test-db.internal, scope: { environments: [Test] } }
  - { name: Db.Host, value: prod-db.internal, scope: { environments: [Production] } }
  - { name: Db.Password, value: ${SECRET_TEST}, sensitive: true, scope: { environments: [Test] } }
  - { name: Db.Password, value: ${SECRET_PROD}, sensitive: true, scope: { environments: [Production] } }
  - { name: Db.Connection, value: "Server=#{Db.Host};Password=#{Db.Password}" }
  - { name: Greeting, value: "hello from #{Cuttle.Environment.Name} on #{Cuttle.Machine.Name}" }
  - { name: "Features:Beta", value: "true", scope: { environments: [Test] } }
  - { name: "Limits:MaxItems", value: "50" }
  - { name: "server:port", value: "8443", scope: { machines: [web-prod] } }
`;

const PACKAGE = {
  'appsettings.json': `${JSON.stringify(
    { ConnectionStrings: { Main: '#{Db.Connection}' }, Logging: { LogLevel: { Default: 'Information' } }, Features: { Beta: false }, Limits: { MaxItems: 10 }, Literal: '##{Db.Host}', Unknown: '#{No.Such.Var}' },
    null,
    2,
  )}\n`,
  'appsettings.Production.json': `${JSON.stringify({ Logging: { LogLevel: { Default: 'Warning' } } }, null, 2)}\n`,
  'appsettings.Test.json': `${JSON.stringify({ Logging: { LogLevel: { Default: 'Debug' } } }, null, 2)}\n`,
  'conf/greeting.txt': '#{Greeting}\n',
  'conf/settings.yaml': 'server:\n  port: 8080\n  host: 0.0.0.0\n',
  'conf/banner.txt': 'default banner\n',
  'conf/banner.Production.txt': 'production banner\n',
  'Deploy.sh': 'echo "connecting to $CUTTLE_VAR_Db_Host with $CUTTLE_VAR_Db_Password"\n',
};

interface AppSettings {
  ConnectionStrings: { Main: string };
  Logging: { LogLevel: { Default: string } };
  Features: { Beta: boolean };
  Limits: { MaxItems: number };
  Literal: string;
  Unknown: string;
}

/**
 * One release deployed to a Test and a Production tentacle: the files on disk differ exactly as the
 * variables, transform files and structured replacement say, and the secret is in the file but
 * nowhere else (task log, API responses, database bytes).
 */
describe('variables and secrets end to end', () => {
  let world: DeployWorld;
  const responses: string[] = [];
  const get = async <T>(route: string): Promise<T> => {
    const r = await world.get<T>(route);
    responses.push(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
    return r.body;
  };
  const readApp = (machine: string, env: string, file: string) => world.readCurrentFile(machine, 'Shop', env, file);

  beforeAll(async () => {
    world = await DeployWorld.start([
      { name: 'web-test', role: 'web-server', env: 'Test' },
      { name: 'web-prod', role: 'web-server', env: 'Production' },
    ]);
    await world.applyProject(PROJECT_YAML);
    const varsFile = path.join(world.temp.dir, 'vars.yaml');
    await writeFile(varsFile, VARS_YAML);
    const imported = await world.cli(['variables', 'import', '--project', 'Shop', '-f', varsFile]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout + imported.stderr).not.toContain(SECRET_PROD);
    await world.pushPackage('Shop.Web', '2.0.0', PACKAGE);
    expect((await world.cli(['release', 'create', '--project', 'Shop', '--version', '2.0.0'])).code).toBe(0);
    for (const env of ['Test', 'Production']) {
      const r = await world.cli(['deploy', '--project', 'Shop', '--release', '2.0.0', '--environment', env, '--wait']);
      responses.push(r.stdout, r.stderr);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    }
  }, 180_000);

  afterAll(async () => {
    await world?.stop();
  });

  it('substitutes, merges and replaces per environment', async () => {
    const test = JSON.parse(await readApp('web-test', 'Test', 'appsettings.json')) as AppSettings;
    const prod = JSON.parse(await readApp('web-prod', 'Production', 'appsettings.json')) as AppSettings;
    expect(test.ConnectionStrings.Main).toBe(`Server=test-db.internal;Password=${SECRET_TEST}`);
    expect(prod.ConnectionStrings.Main).toBe(`Server=prod-db.internal;Password=${SECRET_PROD}`);
    expect(test.Logging.LogLevel.Default).toBe('Debug');
    expect(prod.Logging.LogLevel.Default).toBe('Warning');
    expect(test.Features.Beta).toBe(true); // a boolean, as in the file
    expect(prod.Features.Beta).toBe(false);
    expect(test.Limits.MaxItems).toBe(50); // a number, as in the file
    expect(test.Literal).toBe('#{Db.Host}');
    expect(test.Unknown).toBe('#{No.Such.Var}');
    expect(await readApp('web-test', 'Test', 'conf/greeting.txt')).toBe('hello from Test on web-test\n');
    expect(await readApp('web-prod', 'Production', 'conf/greeting.txt')).toBe('hello from Production on web-prod\n');
    expect(await readApp('web-test', 'Test', 'conf/banner.txt')).toBe('default banner\n');
    expect(await readApp('web-prod', 'Production', 'conf/banner.txt')).toBe('production banner\n');
    expect(await readApp('web-prod', 'Production', 'conf/settings.yaml')).toMatch(/port: 8443/);
    expect(await readApp('web-test', 'Test', 'conf/settings.yaml')).toMatch(/port: 8080/);
    for (const [machine, env] of [['web-test', 'Test'], ['web-prod', 'Production']] as const) {
      const files = await readdir(path.join(world.appDir(machine, 'Shop', env), 'current'));
      expect(files.filter((f) => /\.(Test|Production)\./.test(f))).toEqual([]);
      expect(existsSync(path.join(world.appDir(machine, 'Shop', env), 'current', 'conf', 'banner.Production.txt'))).toBe(false);
    }
  });

  it('keeps the secret out of the task log, warns about unknown names, and lists what it did', async () => {
    const deployments = await get<{ items: Array<{ taskId: number }> }>('/api/v1/deployments?project=Shop');
    for (const { taskId } of deployments.items) {
      const log = await get<string>(`/api/v1/tasks/${taskId}/log`);
      expect(log).toContain('connecting to');
      expect(log).toContain('********');
      expect(log).toMatch(/No\.Such\.Var/);
      expect(log).toMatch(/appsettings\.json/);
      await get(`/api/v1/tasks/${taskId}`);
    }
  });

  it('never returns the secret from the API, and the database file does not hold it in plain text', async () => {
    const vars = await get<{ variables: Array<{ name: string; value: string; sensitive?: boolean }> }>('/api/v1/projects/Shop/variables');
    expect(vars.variables.filter((v) => v.name === 'Db.Password').map((v) => v.value)).toEqual(['********', '********']);
    const preview = await get<{ variables: Array<{ name: string; value: string; source: { matchedBy: string } }> }>(
      '/api/v1/projects/Shop/variables/preview?environment=Production&machine=web-prod',
    );
    const byName = new Map(preview.variables.map((v) => [v.name, v]));
    expect(byName.get('Db.Host')).toMatchObject({ value: 'prod-db.internal', source: { matchedBy: 'environment' } });
    expect(byName.get('server:port')).toMatchObject({ value: '8443', source: { matchedBy: 'machine' } });
    expect(byName.get('Db.Password')?.value).toBe('********');
    expect(byName.get('Cuttle.Machine.Name')?.value).toBe('web-prod');
    await get('/api/v1/projects/Shop/releases/2.0.0');
    await get('/api/v1/projects/Shop/releases');
    await get('/api/v1/status?project=Shop');
    await get('/api/v1/dashboard');
    const list = await world.cli(['variables', 'list', '--project', 'Shop']);
    responses.push(list.stdout, list.stderr);
    for (const body of responses) {
      expect(body).not.toContain(SECRET_PROD);
      expect(body).not.toContain(SECRET_TEST);
    }
    for (const file of await readdir(world.dataDir)) {
      if (!file.startsWith('cuttle.db')) continue;
      const bytes = await readFile(path.join(world.dataDir, file));
      expect(bytes.includes(Buffer.from(SECRET_PROD)), file).toBe(false);
      expect(bytes.includes(Buffer.from(SECRET_TEST)), file).toBe(false);
    }
    expect(world.hub.stderr()).not.toContain(SECRET_PROD);
  });

  it('refuses bad variables with clear codes and changes nothing', async () => {
    const cases: Array<[unknown[], string]> = [
      [[{ name: 'bad name!', value: 'x' }], 'invalid-request'],
      [[{ name: 'A', value: 'x', scope: { environments: ['Nowhere'] } }], 'unknown-scope'],
      [[{ name: 'A', value: 'x', scope: { machines: ['ghost'] } }], 'unknown-scope'],
      [[{ name: 'A', value: 'x', scope: { roles: ['no-such-role'] } }], 'unknown-scope'],
      [[{ name: 'A', value: 'x' }, { name: 'A', value: 'y' }], 'ambiguous-variable'],
      [[{ name: 'A', value: '#{B}' }, { name: 'B', value: '#{A}' }], 'variable-cycle'],
      [[{ name: 'Cuttle.Machine.Name', value: 'x' }], 'reserved-variable'],
    ];
    for (const [variables, code] of cases) {
      const r = await fetch(`${world.hub.url}/api/v1/projects/Shop/variables`, {
        method: 'PUT',
        headers: { 'X-Api-Key': world.hub.adminKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({ variables }),
      });
      const body = (await r.json()) as { error?: { code: string } };
      expect([r.status, body.error?.code], JSON.stringify(variables)).toEqual([400, code]);
    }
    // nothing changed
    const vars = await get<{ variables: unknown[] }>('/api/v1/projects/Shop/variables');
    expect(vars.variables).toHaveLength(9);
  });

  it('fails the deployment on an invalid transform file, naming it, and keeps the previous release', async () => {
    await world.pushPackage('Shop.Web', '2.0.1', { ...PACKAGE, 'appsettings.Test.json': '{ "Logging": ' });
    expect((await world.cli(['release', 'create', '--project', 'Shop', '--version', '2.0.1'])).code).toBe(0);
    const r = await world.cli(['deploy', '--project', 'Shop', '--release', '2.0.1', '--environment', 'Test', '--wait']);
    expect(r.code).toBe(1);
    expect(`${r.stdout}\n${r.stderr}`).toMatch(/appsettings\.Test\.json/);
    expect(await world.currentOnDisk('web-test', 'Shop', 'Test')).toBe('2.0.0');
  }, 60_000);
});
