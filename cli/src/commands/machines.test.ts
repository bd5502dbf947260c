import { describe, expect, it } from 'vitest';
import { formatAgo } from '../output.js';
import { machine, sendError, sendJson, type FakeHandler } from '../test-support/fake-hub.js';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { failure } from '../test-support/test-io.js';
import { runMachines, type MachinesOptions } from './machines.js';

const NOW = Date.parse('2025-01-31T14:05:21.000Z');

describe('cuttle machines', () => {
  const setup = fakeHubSetup({ apiKey: 'admin-key', wallClock: () => NOW });
  async function list(handler: FakeHandler, options: MachinesOptions = {}, json = false) {
    const { ctx, ...t } = await setup(handler, json);
    return { ...t, run: runMachines(ctx, options) };
  }

  const items = [
    machine({ name: 'web-02', status: 'offline', disabled: true, lastSeenAt: '2025-01-31T11:00:00.000Z', freeDiskBytes: null, tentacleVersion: null }),
    machine(),
    machine({ name: 'db-01', roles: ['db-server', 'backup'], environments: ['Staging', 'Production'], lastSeenAt: null, os: null }),
  ];

  it('prints a table sorted by name: status with the disabled flag, relative last seen, free disk', async () => {
    const { run, stdout, hub: fake } = await list((_req, res) => sendJson(res, 200, { items }));
    await run;
    expect(fake.requests[0]).toMatchObject({ method: 'GET' });
    expect(fake.requests[0]?.url.pathname).toBe('/api/v1/machines');
    expect(fake.requests[0]?.url.search).toBe('');
    expect(stdout().split('\n')).toEqual([
      'NAME    STATUS              ENVIRONMENTS        ROLES             LAST SEEN  VERSION  FREE DISK',
      'db-01   online              Staging,Production  db-server,backup  never      0.1.0    12.0 GiB',
      'web-01  online              Test                web-server        12 s ago   0.1.0    12.0 GiB',
      'web-02  offline (disabled)  Test                web-server        3 h ago    -        -',
      '',
    ]);
  });

  it('sends the filters as query parameters', async () => {
    const { run, hub: fake } = await list((_req, res) => sendJson(res, 200, { items: [] }), { environment: 'QA Lab', role: 'web-server', status: 'offline' });
    await run;
    const query = fake.requests[0]?.url.searchParams;
    expect(Object.fromEntries(query ?? [])).toEqual({ environment: 'QA Lab', role: 'web-server', status: 'offline' });
  });

  it('--json prints the hub\'s {items}', async () => {
    const { run, stdout } = await list((_req, res) => sendJson(res, 200, { items }), {}, true);
    await run;
    expect(JSON.parse(stdout())).toEqual({ items });
  });

  it('says so when there are no machines, or none match', async () => {
    const all = await list((_req, res) => sendJson(res, 200, { items: [] }));
    await all.run;
    expect(all.stdout()).toContain('cuttle machine token');
    await all.hub.close();
    const filtered = await list((_req, res) => sendJson(res, 200, { items: [] }), { role: 'web' });
    await filtered.run;
    expect(filtered.stdout()).toBe('no machines match\n');
  });

  it('a bad filter is exit 2 before any request', async () => {
    for (const options of [{ status: 'up' }, { role: 'web server' }, { environment: '-Test' }] satisfies MachinesOptions[]) {
      const { run, hub: fake } = await list((_req, res) => sendJson(res, 200, { items: [] }), options);
      expect(await failure(run)).toMatchObject({ exitCode: 2, code: 'invalid-option' });
      expect(fake.requests).toHaveLength(0);
      await fake.close();
    }
  });

  it('401 is exit 3; a machine with an unknown status is bad-response', async () => {
    const denied = await list((_req, res) => sendError(res, 401, 'unauthorized', 'The API key is missing or unknown.'));
    expect(await failure(denied.run)).toMatchObject({ exitCode: 3, code: 'unauthorized' });
    await denied.hub.close();
    const odd = await list((_req, res) => sendJson(res, 200, { items: [{ ...machine(), status: 'sleeping' }] }));
    expect(await failure(odd.run)).toMatchObject({ exitCode: 1, code: 'bad-response' });
  });
});

describe('formatAgo', () => {
  it('counts seconds, minutes, hours and days', () => {
    const at = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();
    expect(formatAgo(null, NOW)).toBe('never');
    expect(formatAgo(at(-5), NOW)).toBe('just now');
    expect(formatAgo(at(0), NOW)).toBe('just now');
    expect(formatAgo(at(12), NOW)).toBe('12 s ago');
    expect(formatAgo(at(59), NOW)).toBe('59 s ago');
    expect(formatAgo(at(60), NOW)).toBe('1 min ago');
    expect(formatAgo(at(3599), NOW)).toBe('59 min ago');
    expect(formatAgo(at(3600 * 5), NOW)).toBe('5 h ago');
    expect(formatAgo(at(86_400 * 3 + 10), NOW)).toBe('3 d ago');
    expect(formatAgo('yesterday', NOW)).toBe('yesterday');
  });
});
