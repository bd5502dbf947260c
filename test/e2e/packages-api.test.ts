import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, storeFiles, uploadRaw } from '../support/http.js';
import { makeTempDir, startHubProcess, type HubProcess } from '../support/processes.js';
import { buildZip } from '../support/raw-zip.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const appZip = (marker: string) =>
  buildZip([
    { name: 'Deploy.sh', data: `#!/bin/sh\necho ${marker}\n`, mode: 0o100755 },
    { name: 'web/', mode: 0o040755 },
    { name: 'web/index.html', data: `<h1>${marker}</h1>`.repeat(50), deflate: true },
  ]);

describe('package inbox over HTTP', () => {
  let hub: HubProcess;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let pushKey: string;

  beforeAll(async () => {
    temp = await makeTempDir();
    hub = await startHubProcess({ dataDir: temp.dir });
    const created = await api<{ key: string }>(hub.url, '/api/v1/api-keys', { method: 'POST', key: hub.adminKey, json: { name: 'jenkins', scopes: ['push'] } });
    expect(created.status).toBe(201);
    pushKey = created.body.key;
  });
  afterAll(async () => {
    await hub?.stop();
    await temp?.remove();
  });

  it('stores a raw upload and serves it back byte for byte', async () => {
    const zip = appZip('one');
    const up = await uploadRaw(hub.url, pushKey, 'Acme.Web.1.0.0.zip', zip);
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ id: 'Acme.Web', version: '1.0.0', sha256: sha256(zip), size: zip.length, uploadedBy: 'jenkins' });
    expect(Date.parse((up.body as { uploadedAt: string }).uploadedAt)).not.toBeNaN();

    const one = await api(hub.url, '/api/v1/packages/Acme.Web/1.0.0', { key: hub.adminKey });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: 'Acme.Web', version: '1.0.0', sha256: sha256(zip) });

    const content = await fetch(`${hub.url}/api/v1/packages/Acme.Web/1.0.0/content`, { headers: { 'X-Api-Key': hub.adminKey } });
    expect(content.status).toBe(200);
    expect(content.headers.get('content-type')).toBe('application/zip');
    expect(Buffer.from(await content.arrayBuffer()).equals(zip)).toBe(true);

    // content-addressed on disk
    const blob = path.join(hub.dataDir, 'packages', 'sha256', sha256(zip).slice(0, 2), `${sha256(zip)}.zip`);
    expect(existsSync(blob)).toBe(true);
  });

  it('accepts a multipart upload with the file in a field named file', async () => {
    const zip = appZip('multi');
    const form = new FormData();
    form.append('note', 'ignored field');
    form.append('file', new Blob([zip], { type: 'application/zip' }), 'Acme.Api.2.0.0-beta.3.zip');
    const up = await api(hub.url, '/api/v1/packages', { method: 'POST', key: pushKey, body: form });
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ id: 'Acme.Api', version: '2.0.0-beta.3', sha256: sha256(zip), size: zip.length });
  });

  it('applies the three overwrite modes', async () => {
    const first = appZip('v1');
    const second = appZip('v2');
    expect((await uploadRaw(hub.url, pushKey, 'Modes.1.0.0.zip', first)).status).toBe(201);

    const fail = await uploadRaw(hub.url, pushKey, 'Modes.1.0.0.zip', second);
    expect(fail.status).toBe(409);
    expect(fail.body.error?.code).toBe('package-exists');

    const ignore = await uploadRaw(hub.url, pushKey, 'Modes.1.0.0.zip', second, '&overwriteMode=IgnoreIfExists');
    expect(ignore.status).toBe(200);
    expect(ignore.body.sha256).toBe(sha256(first));

    const overwrite = await uploadRaw(hub.url, pushKey, 'Modes.1.0.0.zip', second, '&overwriteMode=OverwriteExisting');
    expect(overwrite.status).toBe(201);
    expect(overwrite.body.sha256).toBe(sha256(second));
    // the replaced bytes are gone from the store, the new ones are there
    const files = await storeFiles(hub.dataDir);
    expect(files.some((f) => f.includes(sha256(first)))).toBe(false);
    expect(files.some((f) => f.includes(sha256(second)))).toBe(true);

    const bad = await uploadRaw(hub.url, pushKey, 'Modes.1.0.0.zip', second, '&overwriteMode=Sometimes');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('invalid-overwrite-mode');
  });

  it('lists packages newest first and filters by id', async () => {
    for (const v of ['3.2.0', '3.10.0', '3.9.0-rc.1']) expect((await uploadRaw(hub.url, pushKey, `Lister.${v}.zip`, appZip(v))).status).toBe(201);
    const list = await api<{ items: Array<{ id: string; version: string }> }>(hub.url, '/api/v1/packages?id=Lister', { key: hub.adminKey });
    expect(list.status).toBe(200);
    expect(list.body.items.map((p) => p.version)).toEqual(['3.10.0', '3.9.0-rc.1', '3.2.0']);
    const all = await api<{ items: Array<{ id: string }> }>(hub.url, '/api/v1/packages', { key: hub.adminKey });
    expect(new Set(all.body.items.map((p) => p.id))).toEqual(new Set(['Acme.Web', 'Acme.Api', 'Modes', 'Lister']));
  });

  it('deletes a version and its bytes', async () => {
    const zip = appZip('doomed');
    await uploadRaw(hub.url, pushKey, 'Doomed.1.0.0.zip', zip);
    const del = await api(hub.url, '/api/v1/packages/Doomed/1.0.0', { method: 'DELETE', key: hub.adminKey });
    expect(del.status).toBe(204);
    expect((await api(hub.url, '/api/v1/packages/Doomed/1.0.0', { key: hub.adminKey })).status).toBe(404);
    expect((await storeFiles(hub.dataDir)).some((f) => f.includes(sha256(zip)))).toBe(false);
    const again = await api<{ error: { code: string } }>(hub.url, '/api/v1/packages/Doomed/1.0.0', { method: 'DELETE', key: hub.adminKey });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('package-not-found');
  });

  it('ends two simultaneous uploads of one version with exactly one package', async () => {
    const a = appZip('race-a');
    const b = appZip('race-b');
    const results = await Promise.all([uploadRaw(hub.url, pushKey, 'Race.1.0.0.zip', a), uploadRaw(hub.url, pushKey, 'Race.1.0.0.zip', b)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const list = await api<{ items: Array<{ sha256: string }> }>(hub.url, '/api/v1/packages?id=Race', { key: hub.adminKey });
    expect(list.body.items).toHaveLength(1);
    const winner = results.find((r) => r.status === 201)!.body.sha256;
    expect(list.body.items[0]!.sha256).toBe(winner);
    const files = await storeFiles(hub.dataDir);
    expect(files.filter((f) => f.includes(sha256(a)) || f.includes(sha256(b)))).toHaveLength(1);
    expect(files.filter((f) => f.startsWith('tmp'))).toEqual([]);
  });

  it('keeps push keys to uploads only', async () => {
    const list = await api<{ error: { code: string } }>(hub.url, '/api/v1/packages', { key: pushKey });
    expect(list.status).toBe(403);
    expect(list.body.error.code).toBe('forbidden');
    const keys = await api<{ error: { code: string } }>(hub.url, '/api/v1/api-keys', { method: 'POST', key: pushKey, json: { name: 'x', scopes: ['admin'] } });
    expect(keys.status).toBe(403);
  });
});
