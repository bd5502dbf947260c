import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashFile } from './file-hash.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cuttle-hash-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hashFile', () => {
  it.each([
    ['empty', 0],
    ['smaller than one read', 1000],
    ['several reads and a partial one', 3 * 256 * 1024 + 17],
  ])('feeds every byte of a file (%s) into the hash', async (name, size) => {
    const bytes = randomBytes(size);
    const file = path.join(dir, `${size}.bin`);
    await writeFile(file, bytes);
    const hash = createHash('sha256');
    expect(await hashFile(file, hash, new AbortController().signal), name).toBe(size);
    expect(hash.digest('hex'), name).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it("rejects with the signal's reason when aborted", async () => {
    const file = path.join(dir, 'aborted.bin');
    await writeFile(file, randomBytes(1024 * 1024));
    const reason = new Error('cancelled');
    await expect(hashFile(file, createHash('sha256'), AbortSignal.abort(reason))).rejects.toBe(reason);
    const controller = new AbortController();
    const hash = createHash('sha256');
    const update = hash.update.bind(hash);
    // abort after the first read: the next read's check stops it
    hash.update = (data: Parameters<typeof update>[0]) => {
      controller.abort(reason);
      return update(data);
    };
    await expect(hashFile(file, hash, controller.signal)).rejects.toBe(reason);
  });

  it('rejects when the file is missing', async () => {
    await expect(hashFile(path.join(dir, 'missing.bin'), createHash('sha256'), new AbortController().signal)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
