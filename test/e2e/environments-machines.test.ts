import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { connect, connectToken, hello, makeKeys, registerRaw } from '../support/fake-tentacle.js';
import { makeTempDir, startHubProcess, type HubProcess } from '../support/processes.js';

describe('environments and machines API', () => {
  let hub: HubProcess;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  const envs = async () => (await api<{ items: Array<{ name: string; position: number }> }>(hub.url, '/api/v1/environments', { key: hub.adminKey })).body.items;

  beforeAll(async () => {
    temp = await makeTempDir();
    hub = await startHubProcess({ dataDir: temp.dir });
  });
  afterAll(async () => {
    await hub?.stop();
    await temp?.remove();
  });

  it('creates environments in deployment order, renames and reorders them', async () => {
    for (const name of ['Test', 'Production']) {
      expect((await api(hub.url, '/api/v1/environments', { method: 'POST', key: hub.adminKey, json: { name, description: `${name} servers` } })).status).toBe(201);
    }
    const staging = await api(hub.url, '/api/v1/environments', { method: 'POST', key: hub.adminKey, json: { name: 'Stage', position: 1 } });
    expect(staging.body).toMatchObject({ name: 'Stage', position: 1, description: '' });
    expect((await envs()).map((e) => e.name)).toEqual(['Test', 'Stage', 'Production']);

    const renamed = await api(hub.url, '/api/v1/environments/Stage', { method: 'PATCH', key: hub.adminKey, json: { name: 'Staging' } });
    expect(renamed.body).toMatchObject({ name: 'Staging', position: 1 });
    await api(hub.url, '/api/v1/environments/Production', { method: 'PATCH', key: hub.adminKey, json: { position: 0 } });
    expect((await envs()).map((e) => [e.name, e.position])).toEqual([
      ['Production', 0],
      ['Test', 1],
      ['Staging', 2],
    ]);
    await api(hub.url, '/api/v1/environments/Production', { method: 'PATCH', key: hub.adminKey, json: { position: 99 } });
    expect((await envs()).map((e) => e.name)).toEqual(['Test', 'Staging', 'Production']);
  });

  it('refuses duplicates, unknown names and bad bodies with clear codes', async () => {
    const dup = await api<{ error: { code: string } }>(hub.url, '/api/v1/environments', { method: 'POST', key: hub.adminKey, json: { name: 'test' } });
    expect([dup.status, dup.body.error.code]).toEqual([409, 'environment-exists']);
    const clash = await api<{ error: { code: string } }>(hub.url, '/api/v1/environments/Staging', { method: 'PATCH', key: hub.adminKey, json: { name: 'Test' } });
    expect([clash.status, clash.body.error.code]).toEqual([409, 'environment-exists']);
    const missing = await api<{ error: { code: string } }>(hub.url, '/api/v1/environments/Nowhere', { method: 'DELETE', key: hub.adminKey });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'environment-not-found']);
    const bad = await api<{ error: { code: string } }>(hub.url, '/api/v1/environments', { method: 'POST', key: hub.adminKey, json: { name: '../etc', extra: 1 } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid-request']);
  });

  it('filters machines by environment, role and status, and refuses to delete an environment in use', async () => {
    const register = async (name: string, roles: string[], environments: string[]) => {
      const keys = makeKeys();
      const t = await api<{ token: string }>(hub.url, '/api/v1/registration-tokens', { method: 'POST', key: hub.adminKey, json: {} });
      const r = await registerRaw(hub.ready.tentaclePort, hub.dataDir, { token: t.body.token, name, roles, environments, publicKey: keys.publicKeyPem });
      expect(r.status).toBe(201);
      return keys;
    };
    const webKeys = await register('web-01', ['web-server'], ['Test']);
    await register('db-01', ['db-server'], ['Test', 'Production']);
    const live = await connect(hub.ready.tentaclePort, hub.dataDir, connectToken('web-01', webKeys.privateKey));
    live.ws.send(hello());
    await live.next('hello');

    const names = async (query: string) =>
      (await api<{ items: Array<{ name: string }> }>(hub.url, `/api/v1/machines${query}`, { key: hub.adminKey })).body.items.map((m) => m.name);
    expect(await names('')).toEqual(['db-01', 'web-01']);
    expect(await names('?environment=Production')).toEqual(['db-01']);
    expect(await names('?role=web-server')).toEqual(['web-01']);
    expect(await names('?status=online')).toEqual(['web-01']);
    expect(await names('?status=offline&environment=Test')).toEqual(['db-01']);
    const badFilter = await api(hub.url, '/api/v1/machines?status=sleeping', { key: hub.adminKey });
    expect(badFilter.status).toBe(400);

    const inUse = await api<{ error: { code: string; details: { machines: number } } }>(hub.url, '/api/v1/environments/Production', { method: 'DELETE', key: hub.adminKey });
    expect([inUse.status, inUse.body.error.code, inUse.body.error.details.machines]).toEqual([409, 'environment-in-use', 1]);

    const moved = await api<{ environments: string[]; roles: string[] }>(hub.url, '/api/v1/machines/db-01', {
      method: 'PATCH',
      key: hub.adminKey,
      json: { environments: ['Test'], roles: ['db-server', 'backup'] },
    });
    expect(moved.body).toMatchObject({ environments: ['Test'], roles: ['db-server', 'backup'] });
    expect((await api(hub.url, '/api/v1/environments/Production', { method: 'DELETE', key: hub.adminKey })).status).toBe(204);
    const unknownEnv = await api<{ error: { code: string } }>(hub.url, '/api/v1/machines/db-01', { method: 'PATCH', key: hub.adminKey, json: { environments: ['Gone'] } });
    expect(unknownEnv.body.error.code).toBe('unknown-environment');
    live.ws.close();
  });
});
