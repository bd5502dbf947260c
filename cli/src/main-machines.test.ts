import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { environment, hubInfo, machine, readJsonBody, sendError, sendJson, sendNoContent, startFakeHub, type FakeHub } from './test-support/fake-hub.js';
import { ensureBuilt, runCli } from './test-support/run-cli.js';

/**
 * The built `cuttle` binary against a fake hub that keeps environments and machines in
 * memory: env, machines and machine commands, their exit codes and output formats.
 */
describe('cuttle binary: environments and machines', () => {
  let hub: FakeHub | undefined;
  const ADMIN = 'cuttle_admin_key';
  const FINGERPRINT = `sha256:${Array(32).fill('CD').join(':')}`;

  beforeAll(() => ensureBuilt(), 120_000);
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  async function fakeHub(): Promise<FakeHub> {
    const environments = [environment({ name: 'Test', position: 0 }), environment({ name: 'Production', position: 1 })];
    const machines = [machine(), machine({ name: 'db-01', status: 'offline', roles: ['db-server'], environments: ['Production'] })];
    hub = await startFakeHub(async (req, res, { method, url }) => {
      if (req.headers['x-api-key'] !== ADMIN) return sendError(res, 401, 'unauthorized', 'The API key is missing or unknown.');
      const path = decodeURIComponent(url.pathname.replace(/^\/api\/v1/, ''));
      const found = machines.find((m) => path.startsWith(`/machines/${m.name}`));
      if (method === 'GET' && path === '/hub') return sendJson(res, 200, hubInfo({ tentaclePort: 10943, fingerprint: FINGERPRINT }));
      if (method === 'GET' && path === '/environments') return sendJson(res, 200, { items: environments });
      if (method === 'POST' && path === '/environments') {
        const body = (await readJsonBody(req)) as { name: string };
        if (environments.some((e) => e.name === body.name)) return sendError(res, 409, 'environment-exists', `An environment named "${body.name}" exists already.`);
        const created = environment({ name: body.name, position: environments.length });
        environments.push(created);
        return sendJson(res, 201, created);
      }
      const env = environments.find((e) => path === `/environments/${e.name}`);
      if (method === 'PATCH' && env !== undefined) return sendJson(res, 200, { ...env, ...((await readJsonBody(req)) as object) });
      if (method === 'DELETE' && path === '/environments/Production') return sendError(res, 409, 'environment-in-use', 'Machines still use "Production".');
      if (method === 'POST' && path === '/registration-tokens') {
        const body = (await readJsonBody(req)) as { environments?: string[]; roles?: string[] };
        return sendJson(res, 201, { token: 'crt_abc123', expiresAt: '2025-01-31T15:05:09.000Z', environments: body.environments ?? [], roles: body.roles ?? [] });
      }
      if (method === 'GET' && path === '/machines') return sendJson(res, 200, { items: machines.filter((m) => url.searchParams.get('status') === null || m.status === url.searchParams.get('status')) });
      if (found === undefined) return sendError(res, 404, 'machine-not-found', `No machine is named "${path.split('/')[2] ?? ''}".`);
      if (method === 'GET') return sendJson(res, 200, found);
      if (method === 'DELETE') return sendNoContent(res);
      if (method === 'POST' && path.endsWith('/health-check')) {
        if (found.status === 'offline') return sendError(res, 409, 'machine-offline', `${found.name} has no live connection to the hub.`);
        return sendJson(res, 200, { name: found.name, healthy: true, roundTripMs: 3, freeDiskBytes: null, uptimeSeconds: 60, checkedAt: '2025-01-31T14:05:09.000Z' });
      }
      if (method === 'PATCH') return sendJson(res, 200, { ...found, ...((await readJsonBody(req)) as object) });
      return sendError(res, 404, 'not-found', 'no route');
    });
    return hub;
  }

  const cli = (server: FakeHub, args: string[]) => runCli([...args, '--hub', server.url], { env: { CUTTLE_API_KEY: ADMIN } });

  it('env create/list/move/remove: exit 0, 409 exits 1, the environment alias works', async () => {
    const server = await fakeHub();
    expect(await cli(server, ['env', 'create', 'Staging'])).toEqual({ code: 0, stdout: 'created environment "Staging" (position 2)\n', stderr: '' });
    const again = await cli(server, ['env', 'create', 'Staging']);
    expect(again).toMatchObject({ code: 1, stdout: '', stderr: 'error: An environment named "Staging" exists already. (environment-exists)\n' });
    const list = await cli(server, ['environment', 'list', '--json']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { items: { name: string }[] }).items.map((e) => e.name)).toEqual(['Test', 'Production', 'Staging']);
    expect(await cli(server, ['env', 'move', 'Staging', '--position', '1'])).toMatchObject({ code: 0 });
    expect(await cli(server, ['env', 'remove', 'Production'])).toMatchObject({ code: 1, stderr: 'error: Machines still use "Production". (environment-in-use)\n' });
  });

  it('bad names and missing values exit 2 before any request', async () => {
    const server = await fakeHub();
    const badName = await cli(server, ['env', 'create', 'Test/1']);
    expect(badName).toMatchObject({ code: 2, stdout: '' });
    expect(badName.stderr).toMatch(/^error: environment name "Test\/1" is not a valid environment name: .* \(invalid-option\)\n$/);
    expect(await cli(server, ['env', 'move', 'Test'])).toMatchObject({ code: 2, stderr: "error: required option '--position <n>' not specified (usage)\n" });
    expect(await cli(server, ['machine', 'show', 'web 01'])).toMatchObject({ code: 2 });
    expect(await cli(server, ['machines', '--status', 'up'])).toMatchObject({ code: 2 });
    expect(await cli(server, ['machine', 'set', 'web-01'])).toMatchObject({ code: 2, stderr: 'error: machine set needs --roles, --environments or both. (usage)\n' });
    expect(await cli(server, ['machine', 'token', '--expires-in-minutes', '0'])).toMatchObject({ code: 2 });
    expect(server.requests).toHaveLength(0);
  });

  it('a missing or wrong API key exits 3', async () => {
    const server = await fakeHub();
    const run = await runCli(['machines', '--hub', server.url]);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('error: The API key is missing or unknown. (no API key was given: pass --api-key or set CUTTLE_API_KEY) (unauthorized)\n');
    expect((await runCli(['env', 'list', '--hub', server.url, '--api-key', 'wrong'])).code).toBe(3);
  });

  it('machines: a table; --status filters; --json gives {items}', async () => {
    const server = await fakeHub();
    const table = await cli(server, ['machines']);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ENVIRONMENTS\s+ROLES\s+LAST SEEN\s+VERSION\s+FREE DISK$/);
    expect(lines[1]).toMatch(/^db-01\s+offline\s+Production\s+db-server\s+\d+ d ago\s+0\.1\.0\s+12\.0 GiB$/);
    expect(lines[2]).toMatch(/^web-01\s+online\s+Test\s+web-server/);
    const offline = await cli(server, ['machines', '--status', 'offline', '--json']);
    expect((JSON.parse(offline.stdout) as { items: { name: string }[] }).items.map((m) => m.name)).toEqual(['db-01']);
    expect(server.requests.at(-1)?.url.search).toBe('?status=offline');
  });

  it('machine token: the token once, and the register command with the hub host, tentacle port and fingerprint', async () => {
    const server = await fakeHub();
    const run = await cli(server, ['machine', 'token', '--environment', 'Test', '--role', 'web-server', '--role', 'api']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('\n    crt_abc123\n');
    expect(run.stdout).toContain(
      `\n    cuttle-tentacle register --hub wss://127.0.0.1:10943 --token crt_abc123 --name <name> --roles web-server,api --environments Test --hub-fingerprint ${FINGERPRINT} --home <dir>\n`,
    );
    const json = await cli(server, ['machine', 'token', '--environment', 'Test,Production', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      token: 'crt_abc123',
      expiresAt: '2025-01-31T15:05:09.000Z',
      environments: ['Test', 'Production'],
      roles: [],
      hub: { tentacleUrl: 'wss://127.0.0.1:10943', fingerprint: FINGERPRINT },
    });
  });

  it('machine show/disable/set/remove: exit 0; unknown machines exit 1', async () => {
    const server = await fakeHub();
    const show = await cli(server, ['machine', 'show', 'web-01']);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('name:          web-01\n');
    expect(await cli(server, ['machine', 'show', 'ghost'])).toMatchObject({ code: 1, stderr: 'error: No machine is named "ghost". (machine-not-found)\n' });
    expect(await cli(server, ['machine', 'disable', 'web-01'])).toMatchObject({ code: 0, stdout: 'disabled machine "web-01" (online)\n' });
    const set = await cli(server, ['machine', 'set', 'web-01', '--roles', 'web-server,api', '--json']);
    expect(JSON.parse(set.stdout)).toMatchObject({ name: 'web-01', roles: ['web-server', 'api'] });
    expect(await cli(server, ['machine', 'remove', 'web-01'])).toMatchObject({ code: 0 });
    const ghost = await cli(server, ['machine', 'remove', 'ghost', '--json']);
    expect(ghost.code).toBe(1);
    expect(JSON.parse(ghost.stdout)).toEqual({ error: { code: 'machine-not-found', message: 'No machine is named "ghost".' } });
  });

  it('machine health-check: exit 0 when healthy, exit 1 with the hub\'s message when offline', async () => {
    const server = await fakeHub();
    expect(await cli(server, ['machine', 'health-check', 'web-01'])).toMatchObject({ code: 0, stdout: 'machine "web-01" is healthy: round trip 3 ms, free disk unknown, up 1 min\n' });
    expect(await cli(server, ['machine', 'health-check', 'db-01'])).toMatchObject({ code: 1, stderr: 'error: db-01 has no live connection to the hub. (machine-offline)\n' });
  });
});
