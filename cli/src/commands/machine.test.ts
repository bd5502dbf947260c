import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { formatDuration, renderFields } from '../output.js';
import { machine, readJsonBody, sendError, sendJson, sendNoContent } from '../test-support/fake-hub.js';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { failure } from '../test-support/test-io.js';
import { runHealthCheck, runRemoveMachine, runSetMachine, runSetMachineDisabled, runShowMachine } from './machine.js';

const NOW = Date.parse('2025-01-31T14:05:21.000Z');
const healthy = { name: 'web-01', healthy: true, roundTripMs: 12.4, freeDiskBytes: 1536 * 1024 ** 2, uptimeSeconds: 3 * 3600 + 12 * 60 + 5, checkedAt: '2025-01-31T14:05:21.000Z' };

describe('cuttle machine', () => {
  const setup = fakeHubSetup({ apiKey: 'admin-key', wallClock: () => NOW });

  const notFound = (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    sendError(res, 404, 'machine-not-found', 'No machine is named "ghost".', { name: 'ghost' });
  };

  it('show: GETs /machines/{name} and prints every field', async () => {
    const { ctx, stdout, hub: fake } = await setup((_req, res) => sendJson(res, 200, machine({ roles: ['web-server', 'api'], environments: ['Test', 'QA Lab'] })));
    await runShowMachine(ctx, 'web-01');
    expect(fake.requests[0]).toMatchObject({ method: 'GET' });
    expect(fake.requests[0]?.url.pathname).toBe('/api/v1/machines/web-01');
    expect(stdout().split('\n')).toEqual([
      'name:          web-01',
      'status:        online',
      'disabled:      no',
      'environments:  Test, QA Lab',
      'roles:         web-server, api',
      'last seen:     2025-01-31 14:05:09Z (12 s ago)',
      'registered:    2025-01-30 10:00:00Z',
      'version:       0.1.0',
      'os:            linux 6.1.0 (x64), host web-01.internal',
      'free disk:     12.0 GiB',
      '',
    ]);
  });

  it('show: a machine that never connected; --json prints the machine', async () => {
    const fresh = machine({ status: 'offline', disabled: true, roles: [], lastSeenAt: null, tentacleVersion: null, os: null, freeDiskBytes: null });
    const human = await setup((_req, res) => sendJson(res, 200, fresh));
    await runShowMachine(human.ctx, 'web-01');
    expect(human.stdout()).toContain('status:        offline\ndisabled:      yes\n');
    expect(human.stdout()).toContain('roles:         -\n');
    expect(human.stdout()).toContain('last seen:     never\n');
    expect(human.stdout()).toContain('os:            -\nfree disk:     -\n');
    await human.hub.close();
    const json = await setup((_req, res) => sendJson(res, 200, fresh), true);
    await runShowMachine(json.ctx, 'web-01');
    expect(JSON.parse(json.stdout())).toEqual(fresh);
  });

  it('show: 404 is exit 1 with the hub\'s message; 401 is exit 3; a bad name is exit 2 before any request', async () => {
    const { ctx, hub: fake } = await setup(notFound);
    expect(await failure(runShowMachine(ctx, 'ghost'))).toEqual({ exitCode: 1, code: 'machine-not-found', message: 'No machine is named "ghost".', details: { name: 'ghost' } });
    expect(await failure(runShowMachine(ctx, '../etc'))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runShowMachine(ctx, 'has space'))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(fake.requests).toHaveLength(1);
    await fake.close();
    const denied = await setup((_req, res) => sendError(res, 401, 'unauthorized', 'The API key is missing or unknown.'));
    expect(await failure(runShowMachine(denied.ctx, 'web-01'))).toMatchObject({ exitCode: 3, code: 'unauthorized' });
  });

  it('remove: DELETEs /machines/{name} (the revocation); 404 is exit 1', async () => {
    const { ctx, stdout, hub: fake } = await setup((req, res) => (req.url === '/api/v1/machines/web-01' ? sendNoContent(res) : notFound(req, res)));
    await runRemoveMachine(ctx, 'web-01');
    expect(fake.requests[0]).toMatchObject({ method: 'DELETE' });
    expect(stdout()).toBe('removed machine "web-01": its key is revoked and its connection closed\n');
    expect(await failure(runRemoveMachine(ctx, 'ghost'))).toMatchObject({ exitCode: 1, code: 'machine-not-found' });
  });

  it('remove --json prints {name, removed}', async () => {
    const { ctx, stdout } = await setup((_req, res) => sendNoContent(res), true);
    await runRemoveMachine(ctx, 'web-01');
    expect(JSON.parse(stdout())).toEqual({ name: 'web-01', removed: true });
  });

  it('enable and disable PATCH {disabled}', async () => {
    const bodies: unknown[] = [];
    const { ctx, stdout, hub: fake } = await setup(async (req, res) => {
      const body = (await readJsonBody(req)) as { disabled: boolean };
      bodies.push(body);
      sendJson(res, 200, machine({ disabled: body.disabled }));
    });
    await runSetMachineDisabled(ctx, 'web-01', true);
    await runSetMachineDisabled(ctx, 'web-01', false);
    expect(fake.requests.map((r) => [r.method, r.url.pathname])).toEqual([
      ['PATCH', '/api/v1/machines/web-01'],
      ['PATCH', '/api/v1/machines/web-01'],
    ]);
    expect(bodies).toEqual([{ disabled: true }, { disabled: false }]);
    expect(stdout()).toBe('disabled machine "web-01" (online)\nenabled machine "web-01" (online)\n');
  });

  it('set: PATCHes the given lists (comma-separated or repeated), --json prints the machine', async () => {
    const bodies: unknown[] = [];
    const { ctx, stdout } = await setup(async (req, res) => {
      const body = (await readJsonBody(req)) as Record<string, unknown>;
      bodies.push(body);
      sendJson(res, 200, machine(body));
    }, true);
    const updated = await runSetMachine(ctx, 'web-01', { roles: ['web-server,api', 'api', ' worker '], environments: ['Staging,QA Lab'] });
    await runSetMachine(ctx, 'web-01', { roles: [''] });
    expect(bodies).toEqual([{ roles: ['web-server', 'api', 'worker'], environments: ['Staging', 'QA Lab'] }, { roles: [] }]);
    expect(JSON.parse(stdout().split('\n')[0] ?? '')).toEqual(updated);
  });

  it('set: prints the new lists for humans', async () => {
    const { ctx, stdout } = await setup(async (req, res) => sendJson(res, 200, machine((await readJsonBody(req)) as Record<string, unknown>)));
    await runSetMachine(ctx, 'web-01', { environments: ['Production'] });
    expect(stdout()).toBe('updated machine "web-01": environments Production; roles web-server\n');
  });

  it('set: nothing to change, a bad name or no environment left is exit 2 before any request', async () => {
    const { ctx, hub: fake } = await setup((_req, res) => sendJson(res, 200, machine()));
    expect(await failure(runSetMachine(ctx, 'web-01', {}))).toMatchObject({ exitCode: 2, code: 'usage' });
    expect(await failure(runSetMachine(ctx, 'web-01', { roles: ['web server'] }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runSetMachine(ctx, 'web-01', { environments: ['Test/1'] }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(await failure(runSetMachine(ctx, 'web-01', { environments: [','] }))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(fake.requests).toHaveLength(0);
  });

  it('set: 400 unknown-environment from the hub is exit 2', async () => {
    const { ctx } = await setup((req, res) => {
      req.resume();
      sendError(res, 400, 'unknown-environment', 'No environment is named "Prod".', { environment: 'Prod' });
    });
    expect(await failure(runSetMachine(ctx, 'web-01', { environments: ['Prod'] }))).toMatchObject({ exitCode: 2, code: 'unknown-environment' });
  });

  it('health-check: POSTs and reports the round trip', async () => {
    const { ctx, stdout, hub: fake } = await setup((_req, res) => sendJson(res, 200, healthy));
    await runHealthCheck(ctx, 'web-01');
    expect(fake.requests[0]).toMatchObject({ method: 'POST' });
    expect(fake.requests[0]?.url.pathname).toBe('/api/v1/machines/web-01/health-check');
    expect(stdout()).toBe('machine "web-01" is healthy: round trip 12 ms, free disk 1.5 GiB, up 3 h 12 min\n');
  });

  it('health-check --json prints the result', async () => {
    const { ctx, stdout } = await setup((_req, res) => sendJson(res, 200, healthy), true);
    await runHealthCheck(ctx, 'web-01');
    expect(JSON.parse(stdout())).toEqual(healthy);
  });

  it('health-check: offline (409) and timed out (504) are exit 1 with the hub\'s message', async () => {
    const { ctx } = await setup((req, res) => {
      if (req.url === '/api/v1/machines/web-01/health-check') sendError(res, 409, 'machine-offline', 'web-01 has no live connection to the hub.');
      else sendError(res, 504, 'health-check-timeout', 'web-02 did not answer within 10 s.');
    });
    expect(await failure(runHealthCheck(ctx, 'web-01'))).toEqual({ exitCode: 1, code: 'machine-offline', message: 'web-01 has no live connection to the hub.' });
    expect(await failure(runHealthCheck(ctx, 'web-02'))).toEqual({ exitCode: 1, code: 'health-check-timeout', message: 'web-02 did not answer within 10 s.' });
  });
});

describe('machine output helpers', () => {
  it('formatDuration shows the two largest units', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(3600)).toBe('1 h');
    expect(formatDuration(3 * 86_400 + 2 * 3600 + 59)).toBe('3 d 2 h');
    expect(formatDuration(61.9)).toBe('1 min 1 s');
  });

  it('renderFields aligns the values', () => {
    expect(renderFields([['a', '1'], ['long name', '2'], ['empty', '']])).toBe('a:          1\nlong name:  2\nempty:');
  });
});
