import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api, rawRequest, storeFiles, uploadRaw } from '../support/http.js';
import { makeTempDir, startHubProcess, waitFor, type HubProcess } from '../support/processes.js';
import { buildZip } from '../support/raw-zip.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const goodZip = buildZip([{ name: 'Deploy.sh', data: '#!/bin/sh\necho hi\n', mode: 0o100755 }]);

/**
 * Every bad input gets a 4xx with a stable code and leaves the store and the database
 * exactly as they were. The hub runs with small limits so the limit cases stay cheap.
 */
describe('bad input to the package inbox', () => {
  let hub: HubProcess;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let before: { files: string[]; packages: unknown };

  const snapshot = async () => ({
    files: await storeFiles(hub.dataDir),
    packages: (await api(hub.url, '/api/v1/packages', { key: hub.adminKey })).body,
  });

  beforeAll(async () => {
    temp = await makeTempDir();
    hub = await startHubProcess({
      dataDir: temp.dir,
      args: ['--max-package-size', '1MiB', '--max-zip-entries', '20', '--max-unpacked-size', '2MiB', '--max-compression-ratio', '50', '--upload-idle-timeout', '3'],
    });
    expect((await uploadRaw(hub.url, hub.adminKey, 'Existing.1.0.0.zip', goodZip)).status).toBe(201);
  });
  afterAll(async () => {
    await hub?.stop();
    await temp?.remove();
  });
  beforeEach(async () => {
    before = await snapshot();
  });
  afterEach(async () => {
    // temp files of an aborted upload are removed as soon as the hub notices the abort
    const after = await waitFor(async () => {
      const now = await snapshot();
      return JSON.stringify(now) === JSON.stringify(before) ? now : undefined;
    }, 10_000, 'the store to be unchanged').catch(async () => snapshot());
    expect(after).toEqual(before);
  });

  const expectRefused = async (response: Promise<{ status: number; body: unknown }>, status: number, code: string) => {
    const r = await response;
    expect(r.status).toBe(status);
    expect((r.body as { error: { code: string; message: string } }).error.code).toBe(code);
    expect((r.body as { error: { message: string } }).error.message.length).toBeGreaterThan(10);
  };

  it('401 without a key and with an unknown key', async () => {
    await expectRefused(uploadRaw(hub.url, '', 'A.1.0.0.zip', goodZip), 401, 'unauthorized');
    await expectRefused(uploadRaw(hub.url, 'cuttle_0123456789abcdef_' + '0'.repeat(64), 'A.1.0.0.zip', goodZip), 401, 'unauthorized');
    await expectRefused(api(hub.url, '/api/v1/packages', { headers: { Authorization: 'Bearer nope-nope-nope' } }), 401, 'unauthorized');
  });

  it.each([
    ['Acme.zip', 'invalid-package-name'],
    ['Acme.1.0.zip', 'invalid-package-name'],
    ['Acme.1.0.0-01.zip', 'invalid-package-name'],
    ['Acme.1.0.0.tar', 'invalid-package-name'],
    ['a/b.1.0.0.zip', 'invalid-package-name'],
    ['Acme..Web.1.0.0.zip', 'invalid-package-id'],
    ['Acme$Web.1.0.0.zip', 'invalid-package-id'],
    ['..1.0.0.zip', 'invalid-package-id'],
  ])('refuses the file name %s with %s', async (name, code) => {
    await expectRefused(uploadRaw(hub.url, hub.adminKey, name, goodZip), 400, code);
  });

  it('refuses an invalid version in a package route', async () => {
    await expectRefused(api(hub.url, '/api/v1/packages/Existing/1.0', { key: hub.adminKey }), 400, 'invalid-version');
  });

  it('refuses a missing file name, an unknown overwrite mode and a wrong content type', async () => {
    await expectRefused(api(hub.url, '/api/v1/packages', { method: 'POST', key: hub.adminKey, body: goodZip, headers: { 'Content-Type': 'application/zip' } }), 400, 'missing-file-name');
    await expectRefused(uploadRaw(hub.url, hub.adminKey, 'A.1.0.0.zip', goodZip, '&overwriteMode=Always'), 400, 'invalid-overwrite-mode');
    await expectRefused(
      api(hub.url, '/api/v1/packages?filename=A.1.0.0.zip', { method: 'POST', key: hub.adminKey, body: 'hello', headers: { 'Content-Type': 'text/plain' } }),
      415,
      'unsupported-media-type',
    );
  });

  it('refuses an empty body, a body that is not a zip and a truncated zip', async () => {
    await expectRefused(uploadRaw(hub.url, hub.adminKey, 'A.1.0.0.zip', Buffer.alloc(0)), 400, 'empty-package');
    await expectRefused(uploadRaw(hub.url, hub.adminKey, 'A.1.0.0.zip', Buffer.from('this is not a zip file at all')), 400, 'invalid-zip');
    const big = buildZip([
      { name: 'a.bin', data: randomBytes(40 * KiB) },
      { name: 'b.bin', data: randomBytes(40 * KiB) },
    ]);
    await expectRefused(uploadRaw(hub.url, hub.adminKey, 'A.1.0.0.zip', big.subarray(0, big.length - 30)), 400, 'invalid-zip');
    await expectRefused(uploadRaw(hub.url, hub.adminKey, 'A.1.0.0.zip', Buffer.concat([big.subarray(0, 20 * KiB), big.subarray(60 * KiB)])), 400, 'invalid-zip');
  });

  it.each([
    ['a parent-directory entry', [{ name: '../evil.sh', data: 'x' }]],
    ['a nested parent-directory entry', [{ name: 'app/../../evil.sh', data: 'x' }]],
    ['an absolute path', [{ name: '/etc/cron.d/evil', data: 'x' }]],
    ['a drive letter', [{ name: 'C:/evil.txt', data: 'x' }]],
    ['a backslash', [{ name: 'app\\..\\evil.txt', data: 'x' }]],
    ['a symlink pointing outside', [{ name: 'link', data: '../../../etc/passwd', mode: 0o120777 }]],
    ['an absolute symlink', [{ name: 'link', data: '/etc/passwd', mode: 0o120777 }]],
    ['a fifo', [{ name: 'pipe', data: '', mode: 0o010644 }]],
    ['duplicate entries', [{ name: 'a.txt', data: '1' }, { name: 'a.txt', data: '2' }]],
  ])('refuses %s as unsafe-zip-entry', async (_what, entries) => {
    await expectRefused(uploadRaw(hub.url, hub.adminKey, 'Unsafe.1.0.0.zip', buildZip(entries)), 400, 'unsafe-zip-entry');
  });

  it('refuses too many entries, too large a total and too high a ratio', async () => {
    const many = buildZip(Array.from({ length: 21 }, (_, i) => ({ name: `f${i}.txt`, data: `${i}` })));
    await expectRefused(uploadRaw(hub.url, hub.adminKey, 'Many.1.0.0.zip', many), 400, 'zip-limits-exceeded');
    const total = buildZip(Array.from({ length: 3 }, (_, i) => ({ name: `part${i}.bin`, data: Buffer.alloc(900 * KiB), deflate: true })));
    await expectRefused(uploadRaw(hub.url, hub.adminKey, 'Total.1.0.0.zip', total), 400, 'zip-limits-exceeded');
    const bomb = buildZip([{ name: 'zeros.bin', data: Buffer.alloc(1536 * KiB), deflate: true }]);
    await expectRefused(uploadRaw(hub.url, hub.adminKey, 'Bomb.1.0.0.zip', bomb), 400, 'zip-limits-exceeded');
  });

  it('answers 413 to a body over the maximum, announced or not', async () => {
    const tooBig = randomBytes(MiB + 1);
    await expectRefused(uploadRaw(hub.url, hub.adminKey, 'Big.1.0.0.zip', tooBig), 413, 'package-too-large');
    // no Content-Length: the hub counts while streaming and stops at the limit
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(randomBytes(64 * KiB));
        controller.close();
      },
    });
    const response = await fetch(`${hub.url}/api/v1/packages?filename=Big.1.0.0.zip`, {
      method: 'POST',
      headers: { 'X-Api-Key': hub.adminKey, 'Content-Type': 'application/zip' },
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('package-too-large');
  });

  it('leaves nothing of a body shorter than its Content-Length or a client that disconnects', async () => {
    const head = (length: number) =>
      `POST /api/v1/packages?filename=Cut.1.0.0.zip HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${hub.adminKey}\r\nContent-Type: application/zip\r\nContent-Length: ${length}\r\n\r\n`;
    const short = await rawRequest(hub.ready.port, head(1000), [goodZip.subarray(0, 100)], { destroyAfterMs: 300 });
    expect(short.status).toBeNull();
    const midway = await rawRequest(hub.ready.port, head(900 * KiB), [randomBytes(300 * KiB)], { destroyAfterMs: 300 });
    expect(midway.status).toBeNull();
  });

  it('cuts off an upload that stalls (408) and keeps nothing', async () => {
    const head = `POST /api/v1/packages?filename=Stall.1.0.0.zip HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${hub.adminKey}\r\nContent-Type: application/zip\r\nContent-Length: 1000\r\n\r\n`;
    const stalled = await rawRequest(hub.ready.port, head, [goodZip.subarray(0, 10)], { destroyAfterMs: 8_000 });
    expect(stalled.status).toBe(408);
    expect(stalled.body).toContain('upload-timeout');
  });

  it('refuses a JSON body that is too large or malformed', async () => {
    await expectRefused(
      api(hub.url, '/api/v1/api-keys', { method: 'POST', key: hub.adminKey, body: JSON.stringify({ name: 'x', scopes: ['push'], pad: 'x'.repeat(200 * KiB) }), headers: { 'Content-Type': 'application/json' } }),
      413,
      'body-too-large',
    );
    await expectRefused(api(hub.url, '/api/v1/api-keys', { method: 'POST', key: hub.adminKey, body: '{"name": "x", ', headers: { 'Content-Type': 'application/json' } }), 400, 'invalid-json');
    const invalid = await api<{ error: { code: string; details: { fields: Array<{ field: string }> } } }>(hub.url, '/api/v1/api-keys', {
      method: 'POST',
      key: hub.adminKey,
      json: { name: 'bad name!', scopes: ['root'] },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('invalid-request');
    expect(invalid.body.error.details.fields.map((f) => f.field).sort()).toEqual(['name', 'scopes.0']);
  });

  it('answers unknown routes with a JSON 404', async () => {
    await expectRefused(api(hub.url, '/api/v1/nothing-here', { key: hub.adminKey }), 404, 'not-found');
  });
});
