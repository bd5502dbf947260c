import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { makeTempDir, startHubProcess, type HubProcess } from '../support/processes.js';

interface KeyInfo {
  name: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
}

describe('API keys', () => {
  let hub: HubProcess;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    temp = await makeTempDir();
    hub = await startHubProcess({ dataDir: temp.dir });
  });
  afterAll(async () => {
    await hub?.stop();
    await temp?.remove();
  });

  it('creates a key shown once, lists it without the secret, and revokes it', async () => {
    const created = await api<{ name: string; scopes: string[]; key: string; createdAt: string }>(hub.url, '/api/v1/api-keys', {
      method: 'POST',
      key: hub.adminKey,
      json: { name: 'github-actions', scopes: ['push'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'github-actions', scopes: ['push'] });
    expect(created.body.key).toMatch(/^cuttle_[0-9a-f]{16}_[0-9a-f]{64}$/);

    // the new key works, and using it is recorded
    const upload = await api(hub.url, '/api/v1/packages?filename=A.1.0.0.zip', { method: 'POST', key: created.body.key, body: 'x', headers: { 'Content-Type': 'application/zip' } });
    expect(upload.status).toBe(400); // authenticated: refused for the body, not the key

    const list = await api<{ items: KeyInfo[] }>(hub.url, '/api/v1/api-keys', { key: hub.adminKey });
    expect(list.status).toBe(200);
    const entry = list.body.items.find((k) => k.name === 'github-actions');
    expect(entry).toMatchObject({ name: 'github-actions', scopes: ['push'], createdAt: created.body.createdAt });
    expect(entry?.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);

    expect((await api(hub.url, '/api/v1/api-keys/github-actions', { method: 'DELETE', key: hub.adminKey })).status).toBe(204);
    const after = await api<{ error: { code: string } }>(hub.url, '/api/v1/packages?filename=A.1.0.0.zip', { method: 'POST', key: created.body.key, body: 'x', headers: { 'Content-Type': 'application/zip' } });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
  });

  it('accepts the key as a Bearer token too', async () => {
    expect((await api(hub.url, '/api/v1/api-keys', { headers: { Authorization: `Bearer ${hub.adminKey}` } })).status).toBe(200);
  });

  it('refuses a duplicate name with 409 api-key-exists and an unknown name with 404', async () => {
    await api(hub.url, '/api/v1/api-keys', { method: 'POST', key: hub.adminKey, json: { name: 'twice', scopes: ['push'] } });
    const again = await api<{ error: { code: string } }>(hub.url, '/api/v1/api-keys', { method: 'POST', key: hub.adminKey, json: { name: 'twice', scopes: ['admin'] } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('api-key-exists');
    const missing = await api<{ error: { code: string } }>(hub.url, '/api/v1/api-keys/nobody', { method: 'DELETE', key: hub.adminKey });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('api-key-not-found');
  });

  it('never revokes the last admin key', async () => {
    const refused = await api<{ error: { code: string } }>(hub.url, '/api/v1/api-keys/admin', { method: 'DELETE', key: hub.adminKey });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('last-admin-key');
    const second = await api<{ key: string }>(hub.url, '/api/v1/api-keys', { method: 'POST', key: hub.adminKey, json: { name: 'ops', scopes: ['admin'] } });
    expect((await api(hub.url, '/api/v1/api-keys/admin', { method: 'DELETE', key: second.body.key })).status).toBe(204);
    expect((await api(hub.url, '/api/v1/api-keys', { key: hub.adminKey })).status).toBe(401);
  });
});
