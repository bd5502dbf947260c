import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acceptUpload, drainAndHash, packageInfo, sendError, sendJson, startFakeHub, type FakeHandler, type FakeHub } from '../test-support/fake-hub.js';
import { createTestIo, failure, tempDir, testContext } from '../test-support/test-io.js';
import { runPush } from './push.js';

/** A port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('cuttle push', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let hub: FakeHub | undefined;
  const content = randomBytes(300_000);
  const sha = createHash('sha256').update(content).digest('hex');

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeFile(path.join(dir, 'Acme.Web.1.4.0.zip'), content);
  });
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    await cleanup();
  });

  async function push(handler: FakeHandler, files: string[], options: { json?: boolean; mode?: string; tty?: boolean; apiKey?: string; timeout?: string } = {}) {
    hub = await startFakeHub(handler);
    const t = createTestIo({ cwd: dir, tty: options.tty === true, columns: 100 });
    const ctx = testContext(t.io, { hub: hub.url, json: options.json === true, apiKey: options.apiKey ?? 'cuttle_k1_secret', ...(options.timeout === undefined ? {} : { timeout: options.timeout }) });
    const run = runPush(ctx, { files, ...(options.mode === undefined ? {} : { overwriteMode: options.mode }) });
    return { ...t, run, hub };
  }

  it('streams the file with the API key, file name and mode, and checks the SHA-256', async () => {
    const { run, stdout, hub: fake } = await push(acceptUpload, ['Acme.Web.1.4.0.zip'], { mode: 'OverwriteExisting' });
    await run;
    const request = fake.requests[0];
    expect(request?.method).toBe('POST');
    expect(request?.url.pathname).toBe('/api/v1/packages');
    expect(request?.url.searchParams.get('filename')).toBe('Acme.Web.1.4.0.zip');
    expect(request?.url.searchParams.get('overwriteMode')).toBe('OverwriteExisting');
    expect(request?.headers['x-api-key']).toBe('cuttle_k1_secret');
    expect(request?.headers['content-type']).toBe('application/zip');
    expect(request?.headers['content-length']).toBe(String(content.length));
    expect(stdout()).toBe(`pushed Acme.Web 1.4.0 (293.0 KiB, sha256 ${sha.slice(0, 12)}…)\n`);
  });

  it('defaults to FailIfExists', async () => {
    const { run, hub: fake } = await push(acceptUpload, ['Acme.Web.1.4.0.zip']);
    await run;
    expect(fake.requests[0]?.url.searchParams.get('overwriteMode')).toBe('FailIfExists');
  });

  it('reports the hub\'s 409 when it answers early and closes while a big body is still streaming', async () => {
    await writeFile(path.join(dir, 'Big.App.2.0.0.zip'), Buffer.alloc(48 * 1024 * 1024, 3));
    // Like the hub: refuse before reading the body, "Connection: close", the socket closed
    // right after the answer (a reset, since the body is unread). Repeated: it is a race.
    for (const closeDelayMs of [0, 0, 0, 0, 20]) {
      let received = 0;
      const { run, hub: fake } = await push(
        (req, res) => {
          req.on('data', (chunk: Buffer) => (received += chunk.length));
          req.pause();
          res.setHeader('Connection', 'close');
          sendError(res, 409, 'package-exists', 'Big.App 2.0.0 already exists; push with overwriteMode OverwriteExisting to replace it.');
          res.on('finish', () => setTimeout(() => req.socket.destroy(), closeDelayMs));
        },
        ['Big.App.2.0.0.zip'],
      );
      const report = await failure(run);
      expect(report).toMatchObject({ exitCode: 1, code: 'package-exists' });
      expect(report.message).toBe('Big.App 2.0.0 already exists; push with overwriteMode OverwriteExisting to replace it.');
      expect(received).toBeLessThan(48 * 1024 * 1024);
      // At most one more request: the body-less retry that asks for the verdict after a reset.
      expect(fake.requests.length).toBeLessThanOrEqual(2);
      await hub?.close();
      hub = undefined;
    }
  });

  it('reports connection-lost (exit 3) when the hub drops the upload without any answer', async () => {
    await writeFile(path.join(dir, 'Big.App.2.0.0.zip'), Buffer.alloc(8 * 1024 * 1024, 3));
    let calls = 0;
    const { run } = await push((req) => {
      calls++;
      if (calls === 1) req.once('data', () => req.socket.destroy());
      // The verdict retry gets no answer either: the hub would have wanted the body.
      else req.pause();
    }, ['Big.App.2.0.0.zip'], { timeout: '1' });
    expect(await failure(run)).toMatchObject({ exitCode: 3, code: 'connection-lost' });
  });

  it('maps 401 to exit 3, 400 and 413 to exit 2, 500 to exit 1', async () => {
    const cases: Array<[number, string, number]> = [
      [401, 'unauthorized', 3],
      [403, 'forbidden', 3],
      [400, 'invalid-package-name', 2],
      [413, 'package-too-large', 2],
      [500, 'internal', 1],
    ];
    for (const [status, code, exitCode] of cases) {
      const { run } = await push(async (req, res) => {
        await drainAndHash(req);
        sendError(res, status, code, `hub says ${code}`);
      }, ['Acme.Web.1.4.0.zip']);
      expect(await failure(run)).toMatchObject({ exitCode, code, message: `hub says ${code}` });
      await hub?.close();
      hub = undefined;
    }
  });

  it('hints at the missing API key on 401', async () => {
    hub = await startFakeHub((_req, res) => sendError(res, 401, 'unauthorized', 'An API key is required.'));
    const t = createTestIo({ cwd: dir });
    const report = await failure(runPush(testContext(t.io, { hub: hub.url }), { files: ['Acme.Web.1.4.0.zip'] }));
    expect(report.exitCode).toBe(3);
    expect(report.message).toContain('CUTTLE_API_KEY');
    expect(hub.requests[0]?.headers['x-api-key']).toBeUndefined();
  });

  it('says when the hub kept an existing package (IgnoreIfExists answers 200 early)', async () => {
    const { run, stdout, stderr } = await push((req, res) => {
      req.resume();
      sendJson(res, 200, packageInfo({ sha256: sha, size: content.length }));
    }, ['Acme.Web.1.4.0.zip'], { mode: 'IgnoreIfExists' });
    await run;
    expect(stdout()).toContain('Acme.Web 1.4.0 already existed on the hub; kept it');
    expect(stderr()).not.toContain('warning');
  });

  it('gets the early 200 of IgnoreIfExists even when the hub closes the connection mid-upload', async () => {
    const big = Buffer.alloc(16 * 1024 * 1024, 5);
    await writeFile(path.join(dir, 'Big.App.2.0.0.zip'), big);
    const bigSha = createHash('sha256').update(big).digest('hex');
    const { run, stdout } = await push((req, res) => {
      req.pause();
      res.setHeader('Connection', 'close');
      sendJson(res, 200, packageInfo({ id: 'Big.App', version: '2.0.0', sha256: bigSha, size: big.length }));
      res.on('finish', () => req.socket.destroy());
    }, ['Big.App.2.0.0.zip'], { mode: 'IgnoreIfExists' });
    await run;
    expect(stdout()).toContain('Big.App 2.0.0 already existed on the hub; kept it (16.0 MiB');
  });

  it('warns when the kept package differs from the local file', async () => {
    const { run, stderr } = await push((req, res) => {
      req.resume();
      sendJson(res, 200, packageInfo({ sha256: 'b'.repeat(64) }));
    }, ['Acme.Web.1.4.0.zip'], { mode: 'IgnoreIfExists' });
    await run;
    expect(stderr()).toContain("warning: the hub's Acme.Web 1.4.0 differs from Acme.Web.1.4.0.zip");
  });

  it('fails with checksum-mismatch (exit 1) when the hub reports another SHA-256', async () => {
    const { run } = await push(async (req, res) => {
      const { size } = await drainAndHash(req);
      sendJson(res, 201, packageInfo({ sha256: 'c'.repeat(64), size }));
    }, ['Acme.Web.1.4.0.zip']);
    expect(await failure(run)).toMatchObject({ exitCode: 1, code: 'checksum-mismatch', details: { expected: sha, actual: 'c'.repeat(64) } });
  });

  it('fails with bad-response (exit 1) on a malformed answer', async () => {
    const { run } = await push(async (req, res) => {
      await drainAndHash(req);
      sendJson(res, 201, { id: 'Acme.Web', version: '1.4.0' });
    }, ['Acme.Web.1.4.0.zip']);
    expect(await failure(run)).toMatchObject({ exitCode: 1, code: 'bad-response' });
  });

  it('gives exit 3 when the hub is not listening', async () => {
    const port = await closedPort();
    const t = createTestIo({ cwd: dir });
    const report = await failure(runPush(testContext(t.io, { hub: `http://127.0.0.1:${port}` }), { files: ['Acme.Web.1.4.0.zip'] }));
    expect(report).toMatchObject({ exitCode: 3, code: 'hub-unreachable' });
    expect(report.message).toContain('connection refused');
  });

  it('gives exit 3 when the hub never answers', async () => {
    const { run } = await push((req) => void req.resume(), ['Acme.Web.1.4.0.zip'], { timeout: '0.3' });
    expect(await failure(run)).toMatchObject({ exitCode: 3, code: 'hub-timeout' });
  });

  it('checks every file name and mode before sending anything', async () => {
    await writeFile(path.join(dir, 'not-a-package.zip'), 'x');
    const bad = await push(acceptUpload, ['Acme.Web.1.4.0.zip', 'not-a-package.zip']);
    expect(await failure(bad.run)).toMatchObject({ exitCode: 2, code: 'invalid-package-name' });
    expect(bad.hub.requests).toHaveLength(0);
    await hub?.close();

    const mode = await push(acceptUpload, ['Acme.Web.1.4.0.zip'], { mode: 'Sometimes' });
    expect(await failure(mode.run)).toMatchObject({ exitCode: 2, code: 'invalid-overwrite-mode' });
    await hub?.close();

    const missing = await push(acceptUpload, ['Acme.Web.1.4.0.zip', 'Acme.Web.1.5.0.zip']);
    expect(await failure(missing.run)).toMatchObject({ exitCode: 2, code: 'file-not-found' });
    expect(missing.hub.requests).toHaveLength(0);
  });

  it('pushes files one after another and stops at the first failure', async () => {
    await writeFile(path.join(dir, 'Acme.Web.1.5.0.zip'), 'second');
    await writeFile(path.join(dir, 'Acme.Web.1.6.0.zip'), 'third');
    const { run, stdout, hub: fake } = await push(async (req, res, recorded) => {
      if (recorded.url.searchParams.get('filename') === 'Acme.Web.1.5.0.zip') {
        req.resume();
        sendError(res, 409, 'package-exists', 'exists');
        return;
      }
      await acceptUpload(req, res, recorded);
    }, ['Acme.Web.1.4.0.zip', 'Acme.Web.1.5.0.zip', 'Acme.Web.1.6.0.zip']);
    expect(await failure(run)).toMatchObject({ exitCode: 1, code: 'package-exists' });
    expect(fake.requests.map((r) => r.url.searchParams.get('filename'))).toEqual(['Acme.Web.1.4.0.zip', 'Acme.Web.1.5.0.zip']);
    expect(stdout()).toContain('pushed Acme.Web 1.4.0');
  });

  it('prints JSON events with --json: progress (up to the total), then pushed', async () => {
    const { run, jsonLines } = await push(acceptUpload, ['Acme.Web.1.4.0.zip'], { json: true });
    await run;
    const events = jsonLines() as Array<Record<string, unknown>>;
    const progress = events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.at(-1)).toEqual({ event: 'progress', file: 'Acme.Web.1.4.0.zip', sent: content.length, total: content.length });
    expect(events.at(-1)).toMatchObject({ event: 'pushed', file: 'Acme.Web.1.4.0.zip', created: true, package: { id: 'Acme.Web', version: '1.4.0', sha256: sha } });
  });

  it('prints a failed event with the hub\'s error with --json', async () => {
    const { run, jsonLines } = await push((req, res) => {
      req.resume();
      sendError(res, 409, 'package-exists', 'exists', { id: 'Acme.Web' });
    }, ['Acme.Web.1.4.0.zip'], { json: true });
    await failure(run);
    expect(jsonLines().at(-1)).toEqual({ event: 'failed', file: 'Acme.Web.1.4.0.zip', error: { code: 'package-exists', message: 'exists', details: { id: 'Acme.Web' } } });
  });

  it('writes plain progress lines at each 25% without a terminal', async () => {
    const { run, stderr } = await push(acceptUpload, ['Acme.Web.1.4.0.zip']);
    await run;
    const lines = stderr().trim().split('\n');
    expect(lines.map((line) => /: (\d+)%/.exec(line)?.[1])).toEqual(['25', '50', '75', '100']);
    expect(lines[0]).toMatch(/^pushing Acme\.Web\.1\.4\.0\.zip: 25% \(.+ of 293\.0 KiB, .+ MiB\/s\)$/);
  });

  it('redraws a progress bar in place on a terminal', async () => {
    const { run, stderr } = await push(acceptUpload, ['Acme.Web.1.4.0.zip'], { tty: true });
    await run;
    const text = stderr();
    expect(text.startsWith('\rpushing Acme.Web.1.4.0.zip [')).toBe(true);
    expect(text).toContain('100%');
    expect(text).toContain('MiB/s');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
  });
});
