import { afterEach, describe, expect, it } from 'vitest';
import type { RegistrationToken } from '@cuttle/shared';
import { hubInfo, readJsonBody, sendError, sendJson, startFakeHub, type FakeHandler, type FakeHub } from '../test-support/fake-hub.js';
import { createTestIo, failure, testContext } from '../test-support/test-io.js';
import { registerCommandLine, runMachineToken, shellQuote, tentacleUrl } from './machine-token.js';

const FINGERPRINT = `sha256:${Array(32).fill('AB').join(':')}`;
const TOKEN = 'crt_5vJq2mXb9LkT0pQw';

function token(overrides: Partial<RegistrationToken> = {}): RegistrationToken {
  return { token: TOKEN, expiresAt: '2025-01-31T15:05:09.000Z', environments: ['Test'], roles: ['web-server'], ...overrides };
}

describe('cuttle machine token', () => {
  let hub: FakeHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  /** A hub answering GET /hub and POST /registration-tokens (echoing the scope it was asked for). */
  async function setup(options: { json?: boolean; hubHost?: string; tokenHandler?: FakeHandler } = {}) {
    const bodies: unknown[] = [];
    hub = await startFakeHub(async (req, res, recorded) => {
      if (req.method === 'GET' && req.url === '/api/v1/hub') sendJson(res, 200, hubInfo({ tentaclePort: 10943, fingerprint: FINGERPRINT }));
      else if (req.method === 'POST' && req.url === '/api/v1/registration-tokens') {
        if (options.tokenHandler !== undefined) return options.tokenHandler(req, res, recorded);
        const body = (await readJsonBody(req)) as { environments?: string[]; roles?: string[] };
        bodies.push(body);
        sendJson(res, 201, token({ environments: body.environments ?? [], roles: body.roles ?? [] }));
      } else sendError(res, 404, 'not-found', 'no route');
    });
    const t = createTestIo({ cwd: '/' });
    const hubUrl = options.hubHost === undefined ? hub.url : hub.url.replace('127.0.0.1', options.hubHost);
    return { ...t, bodies, ctx: testContext(t.io, { hub: hubUrl, apiKey: 'admin-key', json: options.json === true }), hub };
  }

  it('asks the hub for its tentacle port first, then POSTs the scope (repeated or comma-separated)', async () => {
    const { ctx, bodies, hub: fake } = await setup();
    await runMachineToken(ctx, { environments: ['Test,Staging', 'Test'], roles: ['web-server', ' api '], expiresInMinutes: '30' });
    expect(fake.requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual(['GET /api/v1/hub', 'POST /api/v1/registration-tokens']);
    expect(bodies).toEqual([{ environments: ['Test', 'Staging'], roles: ['web-server', 'api'], expiresInMinutes: 30 }]);
  });

  it('prints the token once on its own line and a ready-to-paste register command', async () => {
    const { ctx, stdout, hub: fake } = await setup();
    await runMachineToken(ctx, { environments: ['Test'], roles: ['web-server', 'api'] });
    const port = new URL(fake.url).port;
    expect(port).not.toBe('10943');
    const lines = stdout().split('\n');
    expect(lines.filter((line) => line.trim() === TOKEN)).toEqual([`    ${TOKEN}`]);
    expect(lines).toContain(
      `    cuttle-tentacle register --hub wss://127.0.0.1:10943 --token ${TOKEN} --name <name> --roles web-server,api --environments Test --hub-fingerprint ${FINGERPRINT} --home <dir>`,
    );
    expect(stdout()).toContain('expires at 2025-01-31 15:05:09Z');
    expect(stdout()).toContain('fill in <name>, <dir>');
    expect(stdout()).toContain('The hub was reached as 127.0.0.1');
  });

  it('takes the host from --hub; an unrestricted token leaves roles and environments to fill in', async () => {
    const { ctx, stdout, bodies } = await setup({ hubHost: 'localhost' });
    await runMachineToken(ctx, { environments: [], roles: [] });
    expect(bodies).toEqual([{}]);
    expect(stdout()).toContain('--hub wss://localhost:10943 ');
    expect(stdout()).toContain('--name <name> --roles <roles> --environments <environments> --hub-fingerprint');
    expect(stdout()).toContain('environments: any existing environment');
    expect(stdout()).toContain('fill in <name>, <roles>, <environments>, <dir>');
  });

  it('--json prints the token plus {hub: {tentacleUrl, fingerprint}}', async () => {
    const { ctx, stdout } = await setup({ json: true });
    const result = await runMachineToken(ctx, { environments: ['QA Lab'], roles: [] });
    const printed: unknown = JSON.parse(stdout());
    expect(printed).toEqual({
      token: TOKEN,
      expiresAt: '2025-01-31T15:05:09.000Z',
      environments: ['QA Lab'],
      roles: [],
      hub: { tentacleUrl: 'wss://127.0.0.1:10943', fingerprint: FINGERPRINT },
    });
    expect(printed).toEqual(result);
  });

  it('bad names and lifetimes are exit 2 before any request', async () => {
    const { ctx, hub: fake } = await setup();
    for (const options of [
      { environments: ['Test/1'], roles: [] },
      { environments: [], roles: ['web server'] },
      { environments: [], roles: [], expiresInMinutes: '0' },
      { environments: [], roles: [], expiresInMinutes: '10081' },
      { environments: [], roles: [], expiresInMinutes: 'soon' },
      { environments: [], roles: Array.from({ length: 51 }, (_, i) => `r${i}`) },
    ]) {
      expect(await failure(runMachineToken(ctx, options))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('400 unknown-environment is exit 2 with the hub\'s message; 401 is exit 3', async () => {
    const unknown = await setup({
      tokenHandler: (req, res) => {
        req.resume();
        sendError(res, 400, 'unknown-environment', 'No environment is named "Prod".', { environment: 'Prod' });
      },
    });
    expect(await failure(runMachineToken(unknown.ctx, { environments: ['Prod'], roles: [] }))).toEqual({
      exitCode: 2,
      code: 'unknown-environment',
      message: 'No environment is named "Prod".',
      details: { environment: 'Prod' },
    });
    await unknown.hub.close();

    hub = await startFakeHub((req, res) => {
      req.resume();
      sendError(res, 401, 'unauthorized', 'The API key is missing or unknown.');
    });
    const t = createTestIo({ cwd: '/' });
    const report = await failure(runMachineToken(testContext(t.io, { hub: hub.url }), { environments: [], roles: [] }));
    expect(report).toMatchObject({ exitCode: 3, code: 'unauthorized' });
    expect(report.message).toContain('no API key was given');
    expect(hub.requests).toHaveLength(1);
  });
});

describe('register command helpers', () => {
  const hub = { tentacleUrl: 'wss://hub.example.com:10943', fingerprint: FINGERPRINT };

  it('tentacleUrl uses the host of --hub (IPv6 in brackets) and the tentacle port', () => {
    expect(tentacleUrl(new URL('https://ci.example.com/cuttle'), 10943)).toBe('wss://ci.example.com:10943');
    expect(tentacleUrl(new URL('http://[::1]:8080'), 443)).toBe('wss://[::1]:443');
  });

  it('shell-quotes what needs it', () => {
    expect(shellQuote('Test,Staging')).toBe('Test,Staging');
    expect(shellQuote('QA Lab,Test')).toBe("'QA Lab,Test'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it('names every placeholder it leaves', () => {
    expect(registerCommandLine(token({ environments: ['QA Lab'] }), hub)).toEqual({
      line: `cuttle-tentacle register --hub wss://hub.example.com:10943 --token ${TOKEN} --name <name> --roles web-server --environments 'QA Lab' --hub-fingerprint ${FINGERPRINT} --home <dir>`,
      placeholders: ['name', 'dir'],
    });
  });
});
