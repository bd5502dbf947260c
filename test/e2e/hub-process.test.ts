import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { HUB_BIN, makeTempDir, startHubProcess, type HubProcess } from '../support/processes.js';

function runHub(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [HUB_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the cuttle-hub process', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const start = async (options: Partial<Parameters<typeof startHubProcess>[0]> = {}): Promise<HubProcess> => {
    const temp = await makeTempDir();
    cleanups.push(temp.remove);
    const hub = await startHubProcess({ dataDir: temp.dir, ...options });
    cleanups.push(() => hub.stop());
    return hub;
  };

  it('prints exactly one ready line with real ports and the certificate fingerprint, and answers /healthz', async () => {
    const hub = await start();
    expect(hub.stdoutLines).toHaveLength(1);
    expect(Object.keys(JSON.parse(hub.stdoutLines[0]!) as object)).toEqual(['event', 'port', 'tentaclePort', 'fingerprint']);
    expect(hub.ready.port).toBeGreaterThan(0);
    expect(hub.ready.tentaclePort).toBeGreaterThan(0);
    expect(hub.ready.tentaclePort).not.toBe(hub.ready.port);
    expect(hub.ready.fingerprint).toMatch(/^sha256:([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const health = await api(hub.url, '/healthz');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    const info = await api(hub.url, '/api/v1/hub', { key: hub.adminKey });
    expect(info.body).toMatchObject({ name: 'cuttle-hub', tentaclePort: hub.ready.tentaclePort, fingerprint: hub.ready.fingerprint });
  });

  it('keeps its certificate across restarts, so the pinned fingerprint stays valid', async () => {
    const temp = await makeTempDir();
    cleanups.push(temp.remove);
    const first = await startHubProcess({ dataDir: temp.dir });
    expect(await first.stop()).toBe(0);
    const second = await startHubProcess({ dataDir: temp.dir });
    cleanups.push(() => second.stop());
    expect(second.ready.fingerprint).toBe(first.ready.fingerprint);
  });

  it('generates an admin key on a new database, shows it once on stderr, and stores only its hash', async () => {
    const temp = await makeTempDir();
    cleanups.push(temp.remove);
    const first = await startHubProcess({ dataDir: temp.dir, adminKey: null });
    const key = /(cuttle_[0-9a-f]{16}_[0-9a-f]{64})/.exec(first.stderr())?.[1];
    expect(key).toBeDefined();
    expect(first.stdoutLines.join('\n')).not.toContain(key!);
    expect((await api(first.url, '/api/v1/api-keys', { key: key! })).status).toBe(200);
    await first.stop();
    const { readFile } = await import('node:fs/promises');
    const dbBytes = await readFile(`${temp.dir}/cuttle.db`).catch(() => Buffer.alloc(0));
    const wal = await readFile(`${temp.dir}/cuttle.db-wal`).catch(() => Buffer.alloc(0));
    expect(Buffer.concat([dbBytes, wal]).includes(Buffer.from(key!.split('_')[2]!))).toBe(false);

    const second = await startHubProcess({ dataDir: temp.dir, adminKey: null });
    cleanups.push(() => second.stop());
    expect(second.stderr()).not.toMatch(/cuttle_[0-9a-f]{16}_[0-9a-f]{64}/);
    expect((await api(second.url, '/api/v1/api-keys', { key: key! })).status).toBe(200);
  });

  it('uses CUTTLE_ADMIN_API_KEY only when the database is new', async () => {
    const temp = await makeTempDir();
    cleanups.push(temp.remove);
    const first = await startHubProcess({ dataDir: temp.dir, adminKey: 'first-admin-key-123456' });
    await first.stop();
    const second = await startHubProcess({ dataDir: temp.dir, adminKey: 'second-admin-key-123456' });
    cleanups.push(() => second.stop());
    expect((await api(second.url, '/api/v1/api-keys', { key: 'first-admin-key-123456' })).status).toBe(200);
    expect((await api(second.url, '/api/v1/api-keys', { key: 'second-admin-key-123456' })).status).toBe(401);
  });

  it('stops cleanly on SIGTERM and on SIGINT', async () => {
    const a = await start();
    expect(await a.stop('SIGTERM')).toBe(0);
    const b = await start();
    expect(await b.stop('SIGINT')).toBe(0);
  });

  it('stops promptly while a refused tentacle client keeps its socket open', async () => {
    const hub = await start();
    const tls = await import('node:tls');
    const socket = tls.connect({ host: '127.0.0.1', port: hub.ready.tentaclePort, rejectUnauthorized: false }, () => {
      socket.write('GET /tentacle/v1/connect HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer nope\r\n\r\n');
    });
    socket.allowHalfOpen = true; // the client never closes its side
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    await new Promise((resolve) => socket.once('end', resolve));
    const started = Date.now();
    expect(await hub.stop('SIGTERM')).toBe(0);
    // the hub's own connection cut-off is 5 s; without it a held socket would block the stop forever
    expect(Date.now() - started).toBeLessThan(4_000);
    socket.destroy();
  });

  it('prints every configuration problem and exits non-zero', async () => {
    const result = await runHub(['--port', 'x', '--tentacle-port', '70000', '--max-package-size', 'huge'], { CUTTLE_DATA: '/tmp/never-used' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--port');
    expect(result.stderr).toContain('--tentacle-port');
    expect(result.stderr).toContain('--max-package-size');
  });

  it('makes no admin key when the first start fails, so the next start shows one', async () => {
    const busy = await start();
    const temp = await makeTempDir();
    cleanups.push(temp.remove);
    const failed = await runHub(['--data', temp.dir, '--host', '127.0.0.1', '--port', '0', '--tentacle-port', String(busy.ready.tentaclePort)], {
      CUTTLE_LOG_LEVEL: 'silent',
    });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('--tentacle-port');
    expect(failed.stderr).not.toMatch(/cuttle_[0-9a-f]{16}_/);
    const next = await startHubProcess({ dataDir: temp.dir, adminKey: null });
    cleanups.push(() => next.stop());
    const key = /(cuttle_[0-9a-f]{16}_[0-9a-f]{64})/.exec(next.stderr())?.[1];
    expect(key).toBeDefined();
    expect((await api(next.url, '/api/v1/api-keys', { key: key! })).status).toBe(200);
  });

  it('fails with a clear message when a port is taken', async () => {
    const hub = await start();
    const temp = await makeTempDir();
    cleanups.push(temp.remove);
    const result = await runHub(['--data', temp.dir, '--host', '127.0.0.1', '--port', String(hub.ready.port), '--tentacle-port', '0'], { CUTTLE_LOG_LEVEL: 'silent' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/EADDRINUSE|in use/);
  });
});
