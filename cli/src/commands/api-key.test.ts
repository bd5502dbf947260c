import { describe, expect, it } from 'vitest';
import { describeError } from '../cli-error.js';
import { readJsonBody, sendError, sendJson } from '../test-support/fake-hub.js';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { failure } from '../test-support/test-io.js';
import { parseScopes, runCreateApiKey, runListApiKeys, runRevokeApiKey } from './api-key.js';

describe('cuttle api-key', () => {
  const setup = fakeHubSetup({ apiKey: 'admin-key' });

  const created = { name: 'ci', scopes: ['push'], key: 'cuttle_ab12_s3cr3t', createdAt: '2025-01-31T14:05:09.000Z' };

  it('parses repeated and comma-separated scopes, without duplicates', () => {
    expect(parseScopes(['admin,push', 'push', ' admin '])).toEqual(['admin', 'push']);
    expect(describeError(catchSync(() => parseScopes(['deploy'])))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
  });

  it('create: POSTs {name, scopes} and shows the key once, clearly', async () => {
    let body: unknown;
    const { ctx, stdout, hub: fake } = await setup(async (req, res) => {
      body = await readJsonBody(req);
      sendJson(res, 201, created);
    });
    await runCreateApiKey(ctx, { name: 'ci', scopes: ['push'] });
    expect(fake.requests[0]).toMatchObject({ method: 'POST' });
    expect(fake.requests[0]?.url.pathname).toBe('/api/v1/api-keys');
    expect(fake.requests[0]?.headers['content-type']).toBe('application/json');
    expect(body).toEqual({ name: 'ci', scopes: ['push'] });
    const lines = stdout().split('\n');
    expect(lines[0]).toBe('created API key "ci" (scopes: push)');
    expect(lines.filter((line) => line.includes('cuttle_ab12_s3cr3t'))).toEqual(['    cuttle_ab12_s3cr3t']);
    expect(stdout()).toContain('only time the key is shown');
  });

  it('create --json prints the created key document', async () => {
    const { ctx, stdout } = await setup((_req, res) => sendJson(res, 201, created), true);
    await runCreateApiKey(ctx, { name: 'ci', scopes: ['push'] });
    expect(JSON.parse(stdout())).toEqual(created);
  });

  it('create: validates name and scopes before any request', async () => {
    const { ctx, hub: fake } = await setup((_req, res) => sendJson(res, 201, created));
    expect(await failure(runCreateApiKey(ctx, { name: '-bad name', scopes: ['push'] }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runCreateApiKey(ctx, { name: 'ci', scopes: [] }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runCreateApiKey(ctx, { name: 'ci', scopes: ['root'] }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(fake.requests).toHaveLength(0);
  });

  it('create: a 409 api-key-exists is exit 1 with the hub\'s message', async () => {
    const { ctx } = await setup((req, res) => {
      req.resume();
      sendError(res, 409, 'api-key-exists', 'An API key named "ci" exists already.', { name: 'ci' });
    });
    expect(await failure(runCreateApiKey(ctx, { name: 'ci', scopes: ['push'] }))).toEqual({
      exitCode: 1,
      code: 'api-key-exists',
      message: 'An API key named "ci" exists already.',
      details: { name: 'ci' },
    });
  });

  it('create: an answer without the key is bad-response', async () => {
    const { ctx } = await setup((req, res) => {
      req.resume();
      sendJson(res, 201, { name: 'ci', scopes: ['push'], createdAt: 'now' });
    });
    expect(await failure(runCreateApiKey(ctx, { name: 'ci', scopes: ['push'] }))).toMatchObject({ exitCode: 1, code: 'bad-response' });
  });

  it('list: GETs the keys and prints a table (never a key)', async () => {
    const { ctx, stdout, hub: fake } = await setup((_req, res) =>
      sendJson(res, 200, {
        items: [
          { name: 'admin', scopes: ['admin'], createdAt: '2025-01-01T00:00:00.000Z', lastUsedAt: '2025-01-31T14:05:09.000Z' },
          { name: 'ci', scopes: ['push'], createdAt: '2025-01-02T00:00:00.000Z', lastUsedAt: null },
        ],
      }),
    );
    await runListApiKeys(ctx);
    expect(fake.requests[0]?.url.pathname).toBe('/api/v1/api-keys');
    expect(stdout().split('\n')).toEqual([
      'NAME   SCOPES  CREATED               LAST USED',
      'admin  admin   2025-01-01 00:00:00Z  2025-01-31 14:05:09Z',
      'ci     push    2025-01-02 00:00:00Z  -',
      '',
    ]);
  });

  it('revoke: DELETEs /api-keys/{name} and reports it; 404 is exit 1', async () => {
    const { ctx, stdout, hub: fake } = await setup((req, res) => {
      if (req.url === '/api/v1/api-keys/ci') {
        res.writeHead(204);
        res.end();
      } else sendError(res, 404, 'api-key-not-found', 'No API key has that name.');
    });
    await runRevokeApiKey(ctx, 'ci');
    expect(fake.requests[0]).toMatchObject({ method: 'DELETE' });
    expect(stdout()).toBe('revoked API key "ci"\n');
    expect(await failure(runRevokeApiKey(ctx, 'other'))).toMatchObject({ exitCode: 1, code: 'api-key-not-found' });
  });
});

function catchSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
