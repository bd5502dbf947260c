import { describe, expect, it } from 'vitest';
import { packageInfo, sendError, sendJson, type FakeHandler } from '../test-support/fake-hub.js';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { failure } from '../test-support/test-io.js';
import { runPackages } from './packages.js';

describe('cuttle packages', () => {
  const setup = fakeHubSetup({ apiKey: 'key' });
  async function list(handler: FakeHandler, options: { id?: string; json?: boolean; hubPath?: string } = {}) {
    const { ctx, ...t } = await setup(handler, options.json === true, options.hubPath);
    const run = runPackages(ctx, options.id === undefined ? {} : { id: options.id });
    return { ...t, run };
  }

  const items = [
    packageInfo({ id: 'Acme.Web', version: '1.4.0', sha256: '1'.repeat(64), size: 12_900_000 }),
    packageInfo({ id: 'Acme.Web', version: '1.10.0', sha256: '2'.repeat(64), size: 512 }),
    packageInfo({ id: 'Acme.Api', version: '2.0.0-beta.3', sha256: '3'.repeat(64), size: 2048, uploadedBy: null }),
  ];

  it('prints a table sorted by id, newest version first', async () => {
    const { run, stdout, hub: fake } = await list((_req, res) => sendJson(res, 200, { items }));
    await run;
    expect(fake.requests[0]?.method).toBe('GET');
    expect(fake.requests[0]?.url.pathname).toBe('/api/v1/packages');
    expect(fake.requests[0]?.url.search).toBe('');
    expect(stdout().split('\n')).toEqual([
      'ID        VERSION       SIZE      UPLOADED              SHA256',
      'Acme.Api  2.0.0-beta.3  2.0 KiB   2025-01-31 14:05:09Z  333333333333',
      'Acme.Web  1.10.0        512 B     2025-01-31 14:05:09Z  222222222222',
      'Acme.Web  1.4.0         12.3 MiB  2025-01-31 14:05:09Z  111111111111',
      '',
    ]);
  });

  it('asks for one id with ?id= and prints {items} with --json', async () => {
    const { run, stdout, hub: fake } = await list((_req, res) => sendJson(res, 200, { items: items.slice(0, 2) }), { id: 'Acme.Web', json: true });
    await run;
    expect(fake.requests[0]?.url.searchParams.get('id')).toBe('Acme.Web');
    expect(JSON.parse(stdout())).toEqual({ items: items.slice(0, 2) });
  });

  it('keeps a path prefix of the hub URL', async () => {
    const { run, hub: fake } = await list((_req, res) => sendJson(res, 200, { items: [] }), { hubPath: '/cuttle/' });
    await run;
    expect(fake.requests[0]?.url.pathname).toBe('/cuttle/api/v1/packages');
  });

  it('says so when there are none', async () => {
    const { run, stdout } = await list((_req, res) => sendJson(res, 200, { items: [] }));
    await run;
    expect(stdout()).toBe('no packages on the hub\n');
  });

  it('validates --id locally before any request', async () => {
    const { run, hub: fake } = await list((_req, res) => sendJson(res, 200, { items: [] }), { id: '../etc' });
    expect(await failure(run)).toMatchObject({ exitCode: 2, code: 'invalid-package-id' });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a malformed answer as bad-response (exit 1)', async () => {
    const bad = await list((_req, res) => sendJson(res, 200, { items: [{ id: 'x', version: '1.0.0', sha256: 'XYZ' }] }));
    expect(await failure(bad.run)).toMatchObject({ exitCode: 1, code: 'bad-response' });
    await bad.hub.close();
    const notJson = await list((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>proxy</html>');
    });
    expect(await failure(notJson.run)).toMatchObject({ exitCode: 1, code: 'bad-response' });
  });

  it('passes the hub\'s error through; an unreadable error body keeps the status\'s exit code', async () => {
    const forbidden = await list((_req, res) => sendError(res, 403, 'forbidden', 'This key lacks the admin scope.'));
    expect(await failure(forbidden.run)).toEqual({ exitCode: 3, code: 'forbidden', message: 'This key lacks the admin scope.' });
    await forbidden.hub.close();
    const gateway = await list((_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end('Bad Gateway');
    });
    expect(await failure(gateway.run)).toMatchObject({ exitCode: 1, code: 'hub-error', message: 'the hub answered 502 Bad Gateway', details: { status: 502, body: 'Bad Gateway' } });
  });

  it('reports a redirect instead of following it', async () => {
    const { run } = await list((_req, res) => {
      res.writeHead(301, { Location: 'https://hub.example.com/api/v1/packages' });
      res.end();
    });
    const report = await failure(run);
    expect(report).toMatchObject({ exitCode: 1, code: 'bad-response' });
    expect(report.message).toContain('https://hub.example.com/api/v1/packages');
  });
});
