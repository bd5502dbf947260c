import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { makeTempDir, runCli, runTentacle, startHubProcess, startTentacle, waitFor, type HubProcess, type TentacleProcess } from '../support/processes.js';

interface MachineView {
  name: string;
  status: string;
  roles: string[];
  environments: string[];
  tentacleVersion: string | null;
}

/**
 * A real hub and two real tentacles, set up the way an operator would: environments and tokens
 * through `cuttle`, registration through `cuttle-tentacle register`, then `cuttle-tentacle run`.
 */
describe('tentacles end to end', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let hub: HubProcess;
  const tentacles = new Map<string, TentacleProcess>();
  const cli = (args: string[]) => runCli(args, { hub: hub.url, apiKey: hub.adminKey });
  const machines = async (query = ''): Promise<MachineView[]> => {
    const r = await cli(['machines', '--json', ...query.split(' ').filter(Boolean)]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { items: MachineView[] }).items;
  };
  const statusOf = async (name: string) => (await api<{ status?: string }>(hub.url, `/api/v1/machines/${name}`, { key: hub.adminKey })).body.status;
  const waitStatus = (name: string, status: string, timeoutMs = 20_000) =>
    waitFor(async () => ((await statusOf(name)) === status ? true : undefined), timeoutMs, `${name} to be ${status}`);
  const home = (name: string) => path.join(temp.dir, `home-${name}`);

  beforeAll(async () => {
    temp = await makeTempDir();
    hub = await startHubProcess({ dataDir: path.join(temp.dir, 'data') });
    for (const env of ['Test', 'Production']) expect((await cli(['env', 'create', env])).code).toBe(0);

    const setups = [
      { name: 'web-01', role: 'web-server', env: 'Test' },
      { name: 'db-01', role: 'db-server', env: 'Production' },
    ];
    for (const s of setups) {
      const token = await cli(['machine', 'token', '--environment', s.env, '--role', s.role, '--json']);
      expect(token.code, token.stderr).toBe(0);
      const { token: value, hub: info } = JSON.parse(token.stdout) as { token: string; hub: { tentacleUrl: string; fingerprint: string } };
      expect(info.fingerprint).toBe(hub.ready.fingerprint);
      const registered = await runTentacle([
        'register',
        ...['--hub', `wss://127.0.0.1:${hub.ready.tentaclePort}`, '--token', value, '--name', s.name],
        ...['--roles', s.role, '--environments', s.env, '--home', home(s.name), '--hub-fingerprint', hub.ready.fingerprint],
      ]);
      expect(registered.code, registered.stderr).toBe(0);
      tentacles.set(s.name, startTentacle(home(s.name)));
    }
  }, 90_000);

  afterAll(async () => {
    for (const t of tentacles.values()) await t.stop();
    await hub?.stop();
    await temp?.remove();
  });

  it('shows both tentacles online with their roles, environments and version', async () => {
    await waitStatus('web-01', 'online');
    await waitStatus('db-01', 'online');
    const all = await machines();
    expect(all.map((m) => [m.name, m.status, m.roles, m.environments])).toEqual([
      ['db-01', 'online', ['db-server'], ['Production']],
      ['web-01', 'online', ['web-server'], ['Test']],
    ]);
    expect(all.every((m) => m.tentacleVersion === '0.1.0')).toBe(true);
    expect((await machines('--environment Test')).map((m) => m.name)).toEqual(['web-01']);
    expect((await machines('--role db-server')).map((m) => m.name)).toEqual(['db-01']);
    const table = await cli(['machines']);
    expect(table.stdout).toMatch(/web-01.*online/);
  });

  it('round-trips a health check to a real tentacle', async () => {
    const r = await cli(['machine', 'health-check', 'web-01', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'web-01', healthy: true });
  });

  it('turns a killed tentacle offline, and online again when it runs again', async () => {
    await tentacles.get('db-01')!.stop('SIGKILL');
    await waitStatus('db-01', 'offline');
    expect(await statusOf('web-01')).toBe('online');
    tentacles.set('db-01', startTentacle(home('db-01')));
    await waitStatus('db-01', 'online');
  });

  it('brings both back after a hub restart without intervention', async () => {
    const ports = { port: hub.ready.port, tentaclePort: hub.ready.tentaclePort };
    const stopped = await hub.stop();
    expect(stopped, hub.stderr()).toBe(0);
    hub = await startHubProcess({ dataDir: path.join(temp.dir, 'data'), ports });
    await waitStatus('web-01', 'online', 30_000);
    await waitStatus('db-01', 'online', 30_000);
  }, 60_000);

  it('disconnects a revoked tentacle at once and never lets it back', async () => {
    const revoked = await cli(['machine', 'remove', 'db-01']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await api(hub.url, '/api/v1/machines/db-01', { key: hub.adminKey })).status).toBe(404);
    await waitFor(() => (tentacles.get('db-01')!.stderr().includes('revoked') ? true : undefined), 10_000, 'the tentacle to log its revocation');
    // it keeps trying, and keeps being refused
    await waitFor(() => (/refused this tentacle's credentials/.test(tentacles.get('db-01')!.stderr()) ? true : undefined), 15_000, 'a refused reconnect');
    expect((await machines()).map((m) => m.name)).toEqual(['web-01']);
  }, 30_000);

  it('stops a tentacle cleanly on SIGTERM', async () => {
    expect(await tentacles.get('web-01')!.stop('SIGTERM')).toBe(0);
    await waitStatus('web-01', 'offline');
  });
});
