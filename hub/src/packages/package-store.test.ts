import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PackageStore } from './package-store.js';

describe('PackageStore deletions', () => {
  let dir: string;
  let store: PackageStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cuttle-store-'));
    store = new PackageStore(path.join(dir, 'packages'), path.join(dir, 'tmp'));
    store.init();
  });
  afterEach(async () => {
    await store.settled();
    await rm(dir, { recursive: true, force: true });
  });

  const sha = (c: string) => c.repeat(64);
  async function blob(sha256: string): Promise<string> {
    const file = store.blobPath(sha256);
    mkdirSync(path.dirname(file), { recursive: true });
    await writeFile(file, 'zip bytes');
    return file;
  }

  it('takes a removed blob out of the store at once and deletes it in the background', async () => {
    const file = await blob(sha('a'));
    store.remove(sha('a'));
    expect(existsSync(file)).toBe(false);
    expect(store.listBlobs()).toEqual([]);
    await store.settled();
    expect(await readdir(store.trashDir)).toEqual([]);
  });

  it('drops the temp file of an upload whose bytes are stored already, keeping the stored blob', async () => {
    const file = await blob(sha('b'));
    const tmpPath = path.join(store.tmpDir, 'upload-1.part');
    await writeFile(tmpPath, 'zip bytes');
    store.commit({ tmpPath, sha256: sha('b'), size: 9 });
    expect(existsSync(tmpPath)).toBe(false);
    expect(existsSync(file)).toBe(true);
    await store.settled();
    expect(await readdir(store.trashDir)).toEqual([]);
  });

  it('removes a blob that is already gone without complaint, and still deletes when the trash folder is missing', async () => {
    expect(() => store.remove(sha('c'))).not.toThrow();
    const file = await blob(sha('d'));
    await rm(store.trashDir, { recursive: true });
    store.remove(sha('d'));
    expect(existsSync(file)).toBe(false);
  });

  it('empties the trash left by an earlier run at start', async () => {
    await writeFile(path.join(store.trashDir, 'left-over.zip.123'), 'x');
    store.init();
    expect(await readdir(store.trashDir)).toEqual([]);
  });
});
