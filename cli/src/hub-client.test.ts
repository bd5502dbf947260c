import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeError, type ErrorReport } from './cli-error.js';
import { resolveGlobalOptions } from './context.js';
import { HubClient } from './hub-client.js';
import { sendError, sendJson, startFakeHub, type FakeHandler, type FakeHub } from './test-support/fake-hub.js';
import { failure, tempDir } from './test-support/test-io.js';

function client(hub: string, extra: { apiKey?: string; timeoutMs?: number; signal?: AbortSignal } = {}): HubClient {
  return new HubClient({ hubUrl: new URL(hub), apiKey: extra.apiKey, timeoutMs: extra.timeoutMs ?? 10_000, userAgent: 'cuttle-cli/test', ...(extra.signal ? { signal: extra.signal } : {}) });
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('HubClient', () => {
  let hub: FakeHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });
  async function fake(handler: FakeHandler): Promise<FakeHub> {
    hub = await startFakeHub(handler);
    return hub;
  }

  it('sends the API key as X-Api-Key and a user agent, and omits the header without a key', async () => {
    const server = await fake((_req, res) => sendJson(res, 200, { items: [] }));
    await client(server.url, { apiKey: 'cuttle_k_s' }).listPackages();
    await client(server.url).listPackages();
    expect(server.requests[0]?.headers['x-api-key']).toBe('cuttle_k_s');
    expect(server.requests[0]?.headers['user-agent']).toBe('cuttle-cli/test');
    expect(server.requests[1]?.headers['x-api-key']).toBeUndefined();
  });

  it('gives up with hub-timeout (exit 3) when the hub stays silent', async () => {
    const server = await fake(() => undefined);
    expect(await failure(client(server.url, { timeoutMs: 200 }).listPackages())).toMatchObject({ exitCode: 3, code: 'hub-timeout' });
  });

  it('stops with interrupted when the signal fires', async () => {
    const server = await fake(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect(await failure(client(server.url, { signal: controller.signal }).listPackages())).toMatchObject({ exitCode: 1, code: 'interrupted' });
  });

  it('reports a connection closed without an answer as connection-lost (exit 3)', async () => {
    const server = await fake((req) => void req.socket.destroy());
    expect(await failure(client(server.url).listApiKeys())).toMatchObject({ exitCode: 3, code: 'connection-lost' });
  });

  it('reports an answer cut off in the middle as connection-lost', async () => {
    const server = await fake((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      res.write('{"items":[');
      setTimeout(() => res.destroy(), 20);
    });
    expect(await failure(client(server.url).listPackages())).toMatchObject({ exitCode: 3, code: 'connection-lost' });
  });

  it('keeps the hub\'s error code, message and details, and the exit code of the status', async () => {
    const server = await fake((_req, res) => sendError(res, 415, 'unsupported-media-type', 'Send JSON.', { contentType: 'text/plain' }));
    expect(await failure(client(server.url).listApiKeys())).toEqual({
      exitCode: 2,
      code: 'unsupported-media-type',
      message: 'Send JSON.',
      details: { contentType: 'text/plain' },
    });
  });

  it('refuses a 2xx status other than the expected one', async () => {
    const server = await fake((_req, res) => sendJson(res, 202, { items: [] }));
    expect(await failure(client(server.url).listPackages())).toMatchObject({ exitCode: 1, code: 'bad-response' });
  });

  it.skipIf(!hasOpenssl())('fails TLS to an untrusted certificate with exit 3', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
      const server = https.createServer({ key: await readFile(key), cert: await readFile(cert) }, (_req, res) => sendJson(res, 200, { items: [] }));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const report = await failure(client(`https://127.0.0.1:${port}`).listPackages());
        expect(report).toMatchObject({ exitCode: 3, code: 'hub-unreachable' });
        expect(report.message).toContain('TLS');
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    } finally {
      await cleanup();
    }
  });

  it('sends a file of many chunks byte for byte and checks its SHA-256 against the hub\'s', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const bytes = randomBytes(5 * 1024 * 1024 + 17); // several 1 MiB reads, through the reused buffers
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const server = await fake((req, res) => {
        const hash = createHash('sha256');
        let size = 0;
        req.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          size += chunk.length;
        });
        req.on('end', () => sendJson(res, 201, { id: 'Acme.Web', version: '1.4.0', sha256: hash.digest('hex'), size, uploadedAt: new Date().toISOString(), uploadedBy: 'ci' }));
      });
      const file = path.join(dir, 'Acme.Web.1.4.0.zip');
      await writeFile(file, bytes);
      const progress: number[] = [];
      const result = await client(server.url).uploadPackage({ filePath: file, fileName: 'Acme.Web.1.4.0.zip', size: bytes.length, overwriteMode: 'FailIfExists', onProgress: (sent) => progress.push(sent) });
      expect(result).toMatchObject({ created: true, localSha256: sha256, package: { sha256, size: bytes.length } });
      expect(progress.at(-1)).toBe(bytes.length);
      expect(progress.length).toBeGreaterThan(4);
    } finally {
      await cleanup();
    }
  });

  it('fails file-read-failed when the file is shorter than the size it was announced with (it changed meanwhile)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const server = await fake((req) => void req.resume());
      const file = path.join(dir, 'Acme.Web.1.4.0.zip');
      await writeFile(file, randomBytes(1000));
      const report = await failure(client(server.url).uploadPackage({ filePath: file, fileName: 'Acme.Web.1.4.0.zip', size: 4000, overwriteMode: 'FailIfExists' }));
      expect(report).toMatchObject({ exitCode: 1, code: 'file-read-failed' });
      expect(report.message).toContain('ended after 1000 of its 4000 bytes');
    } finally {
      await cleanup();
    }
  });

  it('fails file-read-failed, without completing the body, when the file has grown since its size was taken', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      let received = 0;
      let ended = false;
      const server = await fake((req) => {
        req.on('data', (chunk: Buffer) => (received += chunk.length));
        req.on('end', () => (ended = true));
      });
      const file = path.join(dir, 'Acme.Web.1.4.0.zip');
      await writeFile(file, randomBytes(3000));
      const report = await failure(client(server.url).uploadPackage({ filePath: file, fileName: 'Acme.Web.1.4.0.zip', size: 2000, overwriteMode: 'FailIfExists' }));
      expect(report).toMatchObject({ exitCode: 1, code: 'file-read-failed' });
      expect(report.message).toContain('has grown past the 2000 bytes');
      expect(received).toBeLessThanOrEqual(2000);
      expect(ended).toBe(false);
    } finally {
      await cleanup();
    }
  });

  it('reports a file that cannot be read while uploading as file-read-failed', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const server = await fake((req) => void req.resume());
      const file = path.join(dir, 'Acme.Web.1.4.0.zip');
      await writeFile(file, 'x');
      const report = await failure(
        client(server.url).uploadPackage({ filePath: path.join(dir, 'gone.zip'), fileName: 'Acme.Web.1.4.0.zip', size: 1, overwriteMode: 'FailIfExists' }),
      );
      expect(report).toMatchObject({ exitCode: 1, code: 'file-read-failed' });
    } finally {
      await cleanup();
    }
  });
});

describe('resolveGlobalOptions', () => {
  it('takes flags, then the environment, then defaults', () => {
    expect(resolveGlobalOptions({}, {})).toMatchObject({ hubUrl: new URL('http://localhost:8080'), apiKey: undefined, json: false, timeoutMs: 60_000 });
    expect(resolveGlobalOptions({}, { CUTTLE_HUB: 'http://env:1', CUTTLE_API_KEY: 'env', CUTTLE_TIMEOUT: '2.5' })).toMatchObject({
      hubUrl: new URL('http://env:1'),
      apiKey: 'env',
      timeoutMs: 2500,
    });
    expect(resolveGlobalOptions({ hub: 'https://flag', apiKey: 'flag', json: true }, { CUTTLE_HUB: 'http://env:1', CUTTLE_API_KEY: 'env' })).toMatchObject({
      hubUrl: new URL('https://flag'),
      apiKey: 'flag',
      json: true,
    });
  });

  it('refuses bad hub URLs, timeouts and keys with exit 2, never echoing the key', () => {
    for (const raw of [{ hub: 'hub:8080' }, { hub: 'ftp://hub' }, { hub: 'http://user:pw@hub' }, { timeout: 'soon' }, { timeout: '0' }, { apiKey: 'sec ret' }]) {
      let report: ErrorReport | undefined;
      try {
        resolveGlobalOptions(raw, {});
      } catch (error) {
        report = describeError(error);
      }
      expect(report).toMatchObject({ exitCode: 2, code: 'invalid-option' });
      expect(report?.message).not.toContain('sec ret');
      expect(report?.message).not.toContain('pw');
    }
  });
});
