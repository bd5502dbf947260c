import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { makeTempDir, startHubProcess, waitFor, type HubProcess } from '../support/processes.js';
import { buildZip } from '../support/raw-zip.js';

const zipOf = (marker: string) => buildZip([{ name: 'Deploy.sh', data: `#!/bin/sh\necho ${marker}\n`, mode: 0o100755 }]);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the inbox folder', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const start = async (dataDir?: string, args: string[] = []): Promise<HubProcess> => {
    let dir = dataDir;
    if (!dir) {
      const temp = await makeTempDir();
      cleanups.push(temp.remove);
      dir = temp.dir;
    }
    const hub = await startHubProcess({ dataDir: dir, args });
    cleanups.push(() => hub.stop());
    return hub;
  };
  const packageOf = (hub: HubProcess, id: string, version: string) => async () => {
    const r = await api<{ sha256: string }>(hub.url, `/api/v1/packages/${id}/${version}`, { key: hub.adminKey });
    return r.status === 200 ? r.body : undefined;
  };
  const inboxOf = (hub: HubProcess) => path.join(hub.dataDir, 'inbox');

  it('ingests a dropped zip and removes it', async () => {
    const hub = await start();
    const zip = zipOf('dropped');
    await writeFile(path.join(inboxOf(hub), 'Dropped.1.0.0.zip'), zip);
    const stored = await waitFor(packageOf(hub, 'Dropped', '1.0.0'), 20_000, 'the dropped package');
    expect(stored.sha256).toBe(sha256(zip));
    await waitFor(() => (existsSync(path.join(inboxOf(hub), 'Dropped.1.0.0.zip')) ? undefined : true), 10_000, 'the file to leave the inbox');
  });

  it('waits for a slow copy to finish before taking it', async () => {
    const hub = await start();
    const zip = buildZip([{ name: 'big.txt', data: 'x'.repeat(600_000) }]);
    const target = path.join(inboxOf(hub), 'Slow.1.0.0.zip');
    const handle = await open(target, 'w');
    // about 2.5 s of trickling, with pauses shorter than the settle time
    const chunk = Math.ceil(zip.length / 5);
    for (let i = 0; i < zip.length; i += chunk) {
      await handle.write(zip.subarray(i, i + chunk));
      await new Promise((r) => setTimeout(r, 500));
    }
    await handle.close();
    const stored = await waitFor(packageOf(hub, 'Slow', '1.0.0'), 20_000, 'the slowly copied package');
    expect(stored.sha256).toBe(sha256(zip));
    expect(existsSync(path.join(inboxOf(hub), 'rejected', 'Slow.1.0.0.zip'))).toBe(false);
  });

  it('takes a zip renamed into the inbox and ignores files that are not zips', async () => {
    const hub = await start();
    const zip = zipOf('renamed');
    const staging = path.join(hub.dataDir, 'staging.tmp');
    await writeFile(staging, zip);
    await writeFile(path.join(inboxOf(hub), 'notes.txt'), 'not a package');
    await rename(staging, path.join(inboxOf(hub), 'Renamed.2.0.0.zip'));
    const stored = await waitFor(packageOf(hub, 'Renamed', '2.0.0'), 20_000, 'the renamed-in package');
    expect(stored.sha256).toBe(sha256(zip));
    expect(existsSync(path.join(inboxOf(hub), 'notes.txt'))).toBe(true);
  });

  it('moves a refused zip to rejected/ with a .error.txt that says why, and stores nothing', async () => {
    const hub = await start();
    await writeFile(path.join(inboxOf(hub), 'Evil.1.0.0.zip'), buildZip([{ name: '../escape.sh', data: 'x' }]));
    await writeFile(path.join(inboxOf(hub), 'badname.zip'), zipOf('x'));
    const rejected = path.join(inboxOf(hub), 'rejected');
    await waitFor(() => (existsSync(path.join(rejected, 'Evil.1.0.0.zip.error.txt')) && existsSync(path.join(rejected, 'badname.zip.error.txt')) ? true : undefined), 20_000, 'both rejections');
    expect(await readFile(path.join(rejected, 'Evil.1.0.0.zip.error.txt'), 'utf8')).toContain('unsafe-zip-entry');
    expect(await readFile(path.join(rejected, 'badname.zip.error.txt'), 'utf8')).toContain('invalid-package-name');
    expect(existsSync(path.join(rejected, 'Evil.1.0.0.zip'))).toBe(true);
    expect((await readdir(inboxOf(hub))).filter((f) => f.endsWith('.zip'))).toEqual([]);
    const list = await api<{ items: unknown[] }>(hub.url, '/api/v1/packages', { key: hub.adminKey });
    expect(list.body.items).toEqual([]);
  });

  it('ingests files that were already in the inbox at start-up', async () => {
    const temp = await makeTempDir();
    cleanups.push(temp.remove);
    await mkdir(path.join(temp.dir, 'inbox'), { recursive: true });
    const zip = zipOf('early');
    await writeFile(path.join(temp.dir, 'inbox', 'Early.0.1.0.zip'), zip);
    const hub = await start(temp.dir);
    const stored = await waitFor(packageOf(hub, 'Early', '0.1.0'), 20_000, 'the package present at start-up');
    expect(stored.sha256).toBe(sha256(zip));
  });

  it('watches another folder given by --inbox', async () => {
    const other = await makeTempDir('cuttle-inbox-');
    cleanups.push(other.remove);
    const hub = await start(undefined, ['--inbox', other.dir]);
    await writeFile(path.join(other.dir, 'Elsewhere.1.0.0.zip'), zipOf('elsewhere'));
    await waitFor(packageOf(hub, 'Elsewhere', '1.0.0'), 20_000, 'the package from --inbox');
  });
});

describe('package retention', () => {
  it('keeps only the newest N versions of each package id', async () => {
    const temp = await makeTempDir();
    const hub = await startHubProcess({ dataDir: temp.dir, args: ['--keep-package-versions', '2'] });
    try {
      const push = (name: string, marker: string) =>
        api(hub.url, `/api/v1/packages?filename=${name}`, { method: 'POST', key: hub.adminKey, body: zipOf(marker), headers: { 'Content-Type': 'application/zip' } });
      for (const v of ['1.0.0', '1.2.0', '1.10.0']) expect((await push(`Kept.${v}.zip`, v)).status).toBe(201);
      expect((await push('Other.1.0.0.zip', 'other')).status).toBe(201);
      const kept = await api<{ items: Array<{ version: string }> }>(hub.url, '/api/v1/packages?id=Kept', { key: hub.adminKey });
      expect(kept.body.items.map((p) => p.version)).toEqual(['1.10.0', '1.2.0']);
      // an older version pushed late is beyond the newest two: it does not stay either
      expect((await push('Kept.0.9.0.zip', '0.9.0')).status).toBe(201);
      const after = await api<{ items: Array<{ version: string }> }>(hub.url, '/api/v1/packages?id=Kept', { key: hub.adminKey });
      expect(after.body.items.map((p) => p.version)).toEqual(['1.10.0', '1.2.0']);
      const other = await api<{ items: unknown[] }>(hub.url, '/api/v1/packages?id=Other', { key: hub.adminKey });
      expect(other.body.items).toHaveLength(1);
    } finally {
      await hub.stop();
      await temp.remove();
    }
  });
});
