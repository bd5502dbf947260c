import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { environment, readJsonBody, sendError, sendJson, sendNoContent } from '../test-support/fake-hub.js';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { createTestIo, failure, testContext } from '../test-support/test-io.js';
import { runCreateEnvironment, runListEnvironments, runMoveEnvironment, runRemoveEnvironment, runRenameEnvironment } from './env.js';

describe('cuttle env', () => {
  const setup = fakeHubSetup({ apiKey: 'admin-key' });

  /** Answers every request with the JSON body it got, echoed into an environment. */
  function echoing(status: number, bodies: unknown[]): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
    return async (req, res) => {
      const body = (await readJsonBody(req)) as Record<string, unknown>;
      bodies.push(body);
      sendJson(res, status, environment({ name: 'Test', ...body }));
    };
  }

  it('create: POSTs {name, description, position} and reports it', async () => {
    const bodies: unknown[] = [];
    const { ctx, stdout, hub: fake } = await setup(echoing(201, bodies));
    await runCreateEnvironment(ctx, { name: 'Production', description: 'customer-facing', position: '2' });
    expect(fake.requests[0]).toMatchObject({ method: 'POST' });
    expect(fake.requests[0]?.url.pathname).toBe('/api/v1/environments');
    expect(fake.requests[0]?.headers['x-api-key']).toBe('admin-key');
    expect(bodies).toEqual([{ name: 'Production', description: 'customer-facing', position: 2 }]);
    expect(stdout()).toBe('created environment "Production" (position 2)\n');
  });

  it('create: only the given fields are sent; --json prints the environment', async () => {
    const bodies: unknown[] = [];
    const { ctx, stdout } = await setup(echoing(201, bodies), true);
    const created = await runCreateEnvironment(ctx, { name: 'QA Lab' });
    expect(bodies).toEqual([{ name: 'QA Lab' }]);
    expect(JSON.parse(stdout())).toEqual(created);
    expect(created).toMatchObject({ name: 'QA Lab', description: '', position: 0 });
  });

  it('create: a bad name or position is exit 2 before any request', async () => {
    const { ctx, hub: fake } = await setup(echoing(201, []));
    for (const name of ['', ' Test', 'Test ', 'a/b', 'x'.repeat(64)]) {
      expect(await failure(runCreateEnvironment(ctx, { name }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    }
    for (const position of ['-1', '1.5', 'first', '']) {
      expect(await failure(runCreateEnvironment(ctx, { name: 'Test', position }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    }
    expect(await failure(runCreateEnvironment(ctx, { name: 'Test', description: 'x'.repeat(1001) }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(fake.requests).toHaveLength(0);
  });

  it('create: 409 environment-exists is exit 1 with the hub\'s message; 401 is exit 3', async () => {
    const { ctx, hub } = await setup((req, res) => {
      req.resume();
      if (req.headers['x-api-key'] === 'admin-key') sendError(res, 409, 'environment-exists', 'An environment named "Test" exists already.', { name: 'Test' });
      else sendError(res, 401, 'unauthorized', 'The API key is missing or unknown.');
    });
    expect(await failure(runCreateEnvironment(ctx, { name: 'Test' }))).toEqual({
      exitCode: 1,
      code: 'environment-exists',
      message: 'An environment named "Test" exists already.',
      details: { name: 'Test' },
    });
    const t = createTestIo({ cwd: '/' });
    const anonymous = testContext(t.io, { hub: hub.url });
    expect(await failure(runCreateEnvironment(anonymous, { name: 'Test' }))).toMatchObject({ exitCode: 3, code: 'unauthorized' });
  });

  it('list: a table in the hub\'s (deployment) order', async () => {
    const items = [
      environment({ name: 'Test', position: 0, description: 'every commit' }),
      environment({ name: 'Staging', position: 1, createdAt: '2025-02-01T08:00:00.000Z' }),
      environment({ name: 'Production', position: 2, description: 'customer-facing' }),
    ];
    const { ctx, stdout, hub: fake } = await setup((_req, res) => sendJson(res, 200, { items }));
    await runListEnvironments(ctx);
    expect(fake.requests[0]).toMatchObject({ method: 'GET' });
    expect(fake.requests[0]?.url.pathname).toBe('/api/v1/environments');
    expect(stdout().split('\n')).toEqual([
      'POSITION  NAME        CREATED               DESCRIPTION',
      '0         Test        2025-01-31 14:05:09Z  every commit',
      '1         Staging     2025-02-01 08:00:00Z',
      '2         Production  2025-01-31 14:05:09Z  customer-facing',
      '',
    ]);
  });

  it('list --json prints {items}; an empty list says how to start; a malformed one is bad-response', async () => {
    const items = [environment()];
    const json = await setup((_req, res) => sendJson(res, 200, { items }), true);
    await runListEnvironments(json.ctx);
    expect(JSON.parse(json.stdout())).toEqual({ items });
    await json.hub.close();

    const empty = await setup((_req, res) => sendJson(res, 200, { items: [] }));
    await runListEnvironments(empty.ctx);
    expect(empty.stdout()).toContain('no environments');
    await empty.hub.close();

    const malformed = await setup((_req, res) => sendJson(res, 200, [{ name: 'Test' }]));
    expect(await failure(runListEnvironments(malformed.ctx))).toMatchObject({ exitCode: 1, code: 'bad-response' });
  });

  it('rename: PATCHes {name} at the URL-encoded current name', async () => {
    const bodies: unknown[] = [];
    const { ctx, stdout, hub: fake } = await setup(echoing(200, bodies));
    await runRenameEnvironment(ctx, 'QA Lab', 'Test');
    expect(fake.requests[0]).toMatchObject({ method: 'PATCH' });
    expect(fake.requests[0]?.url.pathname).toBe('/api/v1/environments/QA%20Lab');
    expect(bodies).toEqual([{ name: 'Test' }]);
    expect(stdout()).toBe('renamed environment "QA Lab" to "Test"\n');
    expect(await failure(runRenameEnvironment(ctx, 'Test', 'bad/name'))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runRenameEnvironment(ctx, '../x', 'Test'))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(fake.requests).toHaveLength(1);
  });

  it('move: PATCHes {position}; 404 environment-not-found is exit 1', async () => {
    const bodies: unknown[] = [];
    const { ctx, stdout, hub: fake } = await setup(async (req, res) => {
      if (req.url === '/api/v1/environments/Staging') await echoing(200, bodies)(req, res);
      else {
        req.resume();
        sendError(res, 404, 'environment-not-found', 'No environment is named "Nope".');
      }
    }, true);
    const moved = await runMoveEnvironment(ctx, 'Staging', '1');
    expect(bodies).toEqual([{ position: 1 }]);
    expect(JSON.parse(stdout())).toEqual(moved);
    expect(await failure(runMoveEnvironment(ctx, 'Nope', '0'))).toMatchObject({ exitCode: 1, code: 'environment-not-found', message: 'No environment is named "Nope".' });
    expect(await failure(runMoveEnvironment(ctx, 'Staging', 'last'))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(fake.requests).toHaveLength(2);
  });

  it('remove: DELETEs and reports it; 409 environment-in-use is exit 1', async () => {
    const { ctx, stdout, hub: fake } = await setup((req, res) => {
      if (req.url === '/api/v1/environments/Test') sendNoContent(res);
      else sendError(res, 409, 'environment-in-use', 'Machines still use "Production".', { machines: 2 });
    });
    await runRemoveEnvironment(ctx, 'Test');
    expect(fake.requests[0]).toMatchObject({ method: 'DELETE' });
    expect(stdout()).toBe('removed environment "Test"\n');
    expect(await failure(runRemoveEnvironment(ctx, 'Production'))).toEqual({
      exitCode: 1,
      code: 'environment-in-use',
      message: 'Machines still use "Production".',
      details: { machines: 2 },
    });
  });

  it('remove --json prints {name, removed}', async () => {
    const { ctx, stdout } = await setup((_req, res) => sendNoContent(res), true);
    await runRemoveEnvironment(ctx, 'Test');
    expect(JSON.parse(stdout())).toEqual({ name: 'Test', removed: true });
  });
});
