import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FOLLOWING_HASH_MIN_BYTES } from './following-hasher.js';
import { PackageStore } from './package-store.js';

describe('PackageStore', () => {
  let dir: string;
  let store: PackageStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cuttle-store-'));
    store = new PackageStore(path.join(dir, 'packages'), path.join(dir, 'tmp'), path.join(dir, 'trash'));
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

  it('receives a large announced upload with its SHA-256 taken in a worker, equal to the bytes sent', async () => {
    const bytes = randomBytes(FOLLOWING_HASH_MIN_BYTES + 3 * 1024 * 1024 + 11);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536));
    const received = await store.receive(Readable.from(chunks), { maxSize: bytes.length, idleTimeoutMs: 0, expectedSize: bytes.length });
    expect(received.size).toBe(bytes.length);
    expect(received.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect((await readFile(received.tmpPath)).equals(bytes)).toBe(true);
  });
});
