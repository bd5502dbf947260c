import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { connect, connectToken, hello, makeKeys, registerRaw, type TentacleKeys } from '../support/fake-tentacle.js';
import { makeTempDir, startHubProcess, waitFor, type HubProcess } from '../support/processes.js';

/** The hub's tentacle port against a hand-driven tentacle: registration, connect tokens, messages. */
describe('tentacle port', () => {
  let hub: HubProcess;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  const port = () => hub.ready.tentaclePort;
  const token = async (body: Record<string, unknown> = {}) => {
    const r = await api<{ token: string; expiresAt: string }>(hub.url, '/api/v1/registration-tokens', { method: 'POST', key: hub.adminKey, json: body });
    expect(r.status).toBe(201);
    return r.body.token;
  };
  const register = async (name: string, keys: TentacleKeys, extra: Record<string, unknown> = {}) =>
    registerRaw(port(), hub.dataDir, { token: await token(), name, roles: ['web'], environments: ['Test'], publicKey: keys.publicKeyPem, ...extra });
  const machine = (name: string) => api<{ status: string; tentacleVersion: string | null }>(hub.url, `/api/v1/machines/${name}`, { key: hub.adminKey });

  beforeAll(async () => {
    temp = await makeTempDir();
    hub = await startHubProcess({ dataDir: temp.dir });
    for (const name of ['Test', 'Production']) expect((await api(hub.url, '/api/v1/environments', { method: 'POST', key: hub.adminKey, json: { name } })).status).toBe(201);
  });
  afterAll(async () => {
    await hub?.stop();
    await temp?.remove();
  });

  describe('registration', () => {
    it('registers with a token, which then works no more', async () => {
      const keys = makeKeys();
      const t = await token({ environments: ['Test'], roles: ['web'] });
      const first = await registerRaw(port(), hub.dataDir, { token: t, name: 'reg-once', roles: ['web'], environments: ['Test'], publicKey: keys.publicKeyPem });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ name: 'reg-once', environments: ['Test'] });
      const again = await registerRaw(port(), hub.dataDir, { token: t, name: 'reg-twice', roles: ['web'], environments: ['Test'], publicKey: keys.publicKeyPem });
      expect(again.status).toBe(401);
      expect(again.body.error?.code).toBe('registration-token-used');
      expect((await machine('reg-twice')).status).toBe(404);
    });

    it('refuses an unknown token and leaves nothing behind', async () => {
      const keys = makeKeys();
      const unknown = await registerRaw(port(), hub.dataDir, { token: 'cuttle-reg_' + '0'.repeat(64), name: 'x1', roles: [], environments: ['Test'], publicKey: keys.publicKeyPem });
      expect(unknown.status).toBe(401);
      expect(unknown.body.error?.code).toBe('invalid-registration-token');
      expect((await machine('x1')).status).toBe(404);
    });

    it('refuses a registration outside what the token allows, and leaves the token usable', async () => {
      const keys = makeKeys();
      const t = await token({ environments: ['Test'], roles: ['web'] });
      const refused = await registerRaw(port(), hub.dataDir, { token: t, name: 'scoped', roles: ['db'], environments: ['Production'], publicKey: keys.publicKeyPem });
      expect(refused.status).toBe(403);
      expect(refused.body.error?.code).toBe('token-scope-mismatch');
      const ok = await registerRaw(port(), hub.dataDir, { token: t, name: 'scoped', roles: ['web'], environments: ['Test'], publicKey: keys.publicKeyPem });
      expect(ok.status).toBe(201);
    });

    it.each([
      ['an empty name', { name: '' }, 400, 'invalid-request'],
      ['a name with a slash', { name: 'a/b' }, 400, 'invalid-request'],
      ['no environment', { environments: [] }, 400, 'invalid-request'],
      ['an unknown environment', { environments: ['Nowhere'] }, 400, 'unknown-environment'],
      ['a key that is not EC P-256', { publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }, 400, 'invalid-public-key'],
    ])('refuses %s', async (_what, change, status, code) => {
      const keys = makeKeys();
      const r = await register('bad-input', keys, change);
      expect(r.status).toBe(status);
      expect(r.body.error?.code).toBe(code);
    });

    it('refuses malformed JSON and a body that is not JSON', async () => {
      expect((await registerRaw(port(), hub.dataDir, '{"token":', 'application/json')).body.error?.code).toBe('invalid-json');
      expect((await registerRaw(port(), hub.dataDir, 'token=x', 'text/plain')).body.error?.code).toBe('unsupported-media-type');
    });

    it('refuses a duplicate name, and replaces it only with --force and an admin key', async () => {
      const keys = makeKeys();
      expect((await register('dup', keys)).status).toBe(201);
      const dup = await register('dup', makeKeys());
      expect(dup.status).toBe(409);
      expect(dup.body.error?.code).toBe('machine-exists');
      const forcedWithToken = await register('DUP', makeKeys(), { force: true });
      expect(forcedWithToken.body.error?.code).toBe('force-needs-admin');
      const newKeys = makeKeys();
      const forced = await registerRaw(port(), hub.dataDir, { token: hub.adminKey, name: 'dup', roles: ['db'], environments: ['Production'], publicKey: newKeys.publicKeyPem, force: true });
      expect(forced.status).toBe(201);
      // the old key no longer connects, the new one does
      await expect(connect(port(), hub.dataDir, connectToken('dup', keys.privateKey))).rejects.toMatchObject({ status: 401 });
      const c = await connect(port(), hub.dataDir, connectToken('dup', newKeys.privateKey));
      c.ws.close();
    });
  });

  describe('connection', () => {
    let keys: TentacleKeys;
    beforeAll(async () => {
      keys = makeKeys();
      expect((await register('conn', keys)).status).toBe(201);
    });

    it('exchanges hellos and shows the machine online, then offline', async () => {
      const c = await connect(port(), hub.dataDir, connectToken('conn', keys.privateKey));
      c.ws.send(hello());
      const reply = await c.next('hello');
      expect(reply).toMatchObject({ type: 'hello', protocolVersion: 1, machine: { name: 'conn', roles: ['web'], environments: ['Test'] } });
      const online = await machine('conn');
      expect(online.body).toMatchObject({ status: 'online', tentacleVersion: '0.0.0-test' });
      const health = await api<{ healthy: boolean }>(hub.url, '/api/v1/machines/conn/health-check', { method: 'POST', key: hub.adminKey });
      expect(health.status).toBe(504); // this fake tentacle does not answer health checks
      c.ws.close();
      await waitFor(async () => ((await machine('conn')).body.status === 'offline' ? true : undefined), 10_000, 'offline');
    }, 30_000);

    it.each([
      ['no token', () => null, 401],
      ['a token signed by another key', () => connectToken('conn', makeKeys().privateKey), 401],
      ['an expired token', () => connectToken('conn', keys.privateKey, { expiresIn: -120 }), 401],
      ['a token without exp', () => jwt.sign({ iss: 'conn', aud: 'cuttle-hub' }, keys.privateKey, { algorithm: 'ES256' }), 401],
      ['a token with a far expiry', () => connectToken('conn', keys.privateKey, { expiresIn: '10d' }), 401],
      ['a token for another audience', () => connectToken('conn', keys.privateKey, { audience: 'someone-else' }), 401],
      ['an alg none token', () => jwt.sign({ iss: 'conn', aud: 'cuttle-hub', exp: Math.floor(Date.now() / 1000) + 60 }, '', { algorithm: 'none' }), 401],
      ['an HS256 token keyed with the public key', () => jwt.sign({ iss: 'conn', aud: 'cuttle-hub' }, keys.publicKeyPem, { algorithm: 'HS256', expiresIn: 60 }), 401],
      ['a token of an unknown machine', () => connectToken('ghost', keys.privateKey), 401],
    ])('refuses the upgrade with %s', async (_what, make, status) => {
      await expect(connect(port(), hub.dataDir, make())).rejects.toMatchObject({ status });
    });

    it('survives a token whose payload is not JSON', async () => {
      const b64 = (text: string) => Buffer.from(text).toString('base64url');
      const token = `${b64('{"alg":"ES256","typ":"JWT"}')}.${b64('not json')}.x`;
      await expect(connect(port(), hub.dataDir, token)).rejects.toMatchObject({ status: 401 });
      expect((await api(hub.url, '/healthz')).status).toBe(200);
    });

    it('refuses the hello of a machine revoked after its upgrade was accepted', async () => {
      const lateKeys = makeKeys();
      expect((await register('late', lateKeys)).status).toBe(201);
      const c = await connect(port(), hub.dataDir, connectToken('late', lateKeys.privateKey));
      expect((await api(hub.url, '/api/v1/machines/late', { method: 'DELETE', key: hub.adminKey })).status).toBe(204);
      c.ws.send(hello());
      expect((await c.closed).code).toBe(4003);
      expect(c.messages.some((m) => m.type === 'hello')).toBe(false);
    });

    it('answers malformed JSON, unknown types and binary frames with an error, and closes oversized messages', async () => {
      const c = await connect(port(), hub.dataDir, connectToken('conn', keys.privateKey));
      c.ws.send(hello());
      await c.next('hello');
      c.ws.send('{not json');
      expect(await c.next('error')).toMatchObject({ code: 'invalid-message' });
      c.ws.send(JSON.stringify({ type: 'launch-missiles' }));
      expect(await c.next('error')).toMatchObject({ code: 'invalid-message' });
      c.ws.send(Buffer.from([1, 2, 3]));
      expect(await c.next('error')).toMatchObject({ code: 'invalid-message' });
      // above the control-message limit (256 KiB) but within the websocket's (one package chunk): refused, connection kept
      c.ws.send('x'.repeat(256 * 1024 + 1));
      expect(await c.next('error')).toMatchObject({ code: 'invalid-message' });
      // above anything the hub accepts: the websocket closes
      c.ws.send('x'.repeat(300 * 1024));
      expect((await c.closed).code).toBe(1009);
      expect((await api(hub.url, '/healthz')).status).toBe(200);
    });

    it('closes on a protocol version mismatch with a clear reason', async () => {
      const c = await connect(port(), hub.dataDir, connectToken('conn', keys.privateKey));
      c.ws.send(hello(99));
      const closed = await c.closed;
      expect(closed.code).toBe(4001);
      expect(closed.reason).toContain('protocol version mismatch');
    });

    it('lets a second connection of a machine replace the first', async () => {
      const first = await connect(port(), hub.dataDir, connectToken('conn', keys.privateKey));
      first.ws.send(hello());
      await first.next('hello');
      const second = await connect(port(), hub.dataDir, connectToken('conn', keys.privateKey));
      second.ws.send(hello());
      await second.next('hello');
      expect((await first.closed).code).toBe(4002);
      expect((await machine('conn')).body.status).toBe('online');
      second.ws.close();
    });

    it('closes a disabled machine at once and refuses it until enabled; revoking closes it for good', async () => {
      const c = await connect(port(), hub.dataDir, connectToken('conn', keys.privateKey));
      c.ws.send(hello());
      await c.next('hello');
      expect((await api(hub.url, '/api/v1/machines/conn', { method: 'PATCH', key: hub.adminKey, json: { disabled: true } })).status).toBe(200);
      expect((await c.closed).code).toBe(4004);
      await expect(connect(port(), hub.dataDir, connectToken('conn', keys.privateKey))).rejects.toMatchObject({ status: 403 });
      await api(hub.url, '/api/v1/machines/conn', { method: 'PATCH', key: hub.adminKey, json: { disabled: false } });
      const again = await connect(port(), hub.dataDir, connectToken('conn', keys.privateKey));
      again.ws.send(hello());
      await again.next('hello');
      expect((await api(hub.url, '/api/v1/machines/conn', { method: 'DELETE', key: hub.adminKey })).status).toBe(204);
      expect((await again.closed).code).toBe(4003);
      expect((await machine('conn')).status).toBe(404);
      await expect(connect(port(), hub.dataDir, connectToken('conn', keys.privateKey))).rejects.toMatchObject({ status: 401 });
    });
  });
});
