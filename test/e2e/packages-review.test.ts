import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, uploadRaw } from '../support/http.js';
import { makeTempDir, startHubProcess, waitFor, type HubProcess } from '../support/processes.js';
import { buildZip } from '../support/raw-zip.js';

const zipOf = (marker: string) => buildZip([{ name: 'Deploy.sh', data: `#!/bin/sh\necho ${marker}\n`, mode: 0o100755 }]);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('package storage under pressure', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const start = async (): Promise<HubProcess> => {
    const temp = await makeTempDir();
    cleanups.push(temp.remove);
    const hub = await startHubProcess({ dataDir: temp.dir });
    cleanups.push(() => hub.stop());
    return hub;
  };
  const contentOf = async (hub: HubProcess, id: string, version: string): Promise<{ status: number; bytes: Buffer }> => {
    const response = await fetch(`${hub.url}/api/v1/packages/${id}/${version}/content`, { headers: { 'X-Api-Key': hub.adminKey } });
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
  };

  it('refuses to overwrite a version a release uses and keeps the bytes the release deploys', async () => {
    const hub = await start();
    const original = zipOf('original');
    expect((await uploadRaw(hub.url, hub.adminKey, 'Acme.Web.1.0.0.zip', original)).status).toBe(201);
    const project = await api(hub.url, '/api/v1/projects/Shop', {
      method: 'PUT',
      key: hub.adminKey,
      json: { steps: [{ name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'] }] },
    });
    expect(project.status).toBe(201);
    const release = await api<{ packages: Array<{ sha256: string }> }>(hub.url, '/api/v1/projects/Shop/releases', { method: 'POST', key: hub.adminKey, json: {} });
    expect(release.status).toBe(201);
    expect(release.body.packages[0]?.sha256).toBe(sha256(original));

    const overwrite = await uploadRaw(hub.url, hub.adminKey, 'Acme.Web.1.0.0.zip', zipOf('replacement'), '&overwriteMode=OverwriteExisting');
    expect(overwrite.status).toBe(409);
    expect(overwrite.body.error?.code).toBe('package-in-use');

    const content = await contentOf(hub, 'Acme.Web', '1.0.0');
    expect(content.status).toBe(200);
    expect(sha256(content.bytes)).toBe(sha256(original));
    // a version no release uses can still be replaced
    expect((await uploadRaw(hub.url, hub.adminKey, 'Acme.Web.2.0.0.zip', zipOf('two'))).status).toBe(201);
    expect((await uploadRaw(hub.url, hub.adminKey, 'Acme.Web.2.0.0.zip', zipOf('two again'), '&overwriteMode=OverwriteExisting')).status).toBe(201);
  });

  it('refuses a second hub on the same data folder and leaves the first one working', async () => {
    const first = await start();
    const second = startHubProcess({ dataDir: first.dataDir });
    const refusal = await second.then(
      async (hub) => {
        await hub.stop();
        return 'the second hub started';
      },
      (error: Error) => error.message,
    );
    expect(refusal).toMatch(/hub exited with [1-9]\d* before ready/);
    expect(refusal).toContain(`another hub (pid ${first.child.pid}) uses this data folder`);

    expect(existsSync(path.join(first.dataDir, 'hub.lock'))).toBe(true);
    const zip = zipOf('still here');
    expect((await uploadRaw(first.url, first.adminKey, 'After.1.0.0.zip', zip)).status).toBe(201);
    const content = await contentOf(first, 'After', '1.0.0');
    expect(sha256(content.bytes)).toBe(sha256(zip));

    // once the first stops, its lock goes and a new hub starts on the folder
    expect(await first.stop()).toBe(0);
    expect(existsSync(path.join(first.dataDir, 'hub.lock'))).toBe(false);
    const next = await startHubProcess({ dataDir: first.dataDir });
    cleanups.push(() => next.stop());
    expect((await contentOf(next, 'After', '1.0.0')).status).toBe(200);
  });

  it('starts over a lock left by a hub that is gone', async () => {
    const first = await start();
    expect(await first.stop('SIGKILL')).toBeNull();
    expect(existsSync(path.join(first.dataDir, 'hub.lock'))).toBe(true);
    const next = await startHubProcess({ dataDir: first.dataDir });
    cleanups.push(() => next.stop());
    expect((await readFile(path.join(first.dataDir, 'hub.lock'), 'utf8')).trim()).toBe(String(next.child.pid));
  });

  // Root reads any file whatever its mode; the open failure itself is unit-tested (inbox-watcher.test.ts).
  it.skipIf(process.getuid?.() === 0)('rejects an inbox file it cannot read and keeps running', async () => {
    const hub = await start();
    const inbox = path.join(hub.dataDir, 'inbox');
    const locked = path.join(inbox, 'Locked.1.0.0.zip');
    await writeFile(locked, zipOf('locked'));
    await chmod(locked, 0o000);
    await writeFile(path.join(inbox, 'Fine.1.0.0.zip'), zipOf('fine'));
    await waitFor(async () => ((await api(hub.url, '/api/v1/packages/Fine/1.0.0', { key: hub.adminKey })).status === 200 ? true : undefined), 20_000, 'the readable file');
    const reason = path.join(inbox, 'rejected', 'Locked.1.0.0.zip.error.txt');
    await waitFor(() => (existsSync(reason) ? true : undefined), 20_000, 'the locked file to be rejected');
    expect(await readFile(reason, 'utf8')).toContain('cannot read the file (EACCES)');
    expect(hub.child.exitCode).toBeNull();
    expect((await api(hub.url, '/api/v1/packages', { key: hub.adminKey })).status).toBe(200);
  });
});
