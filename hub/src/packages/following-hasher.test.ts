import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FOLLOWING_HASH_MIN_BYTES, FollowingHasher, MAX_FOLLOWING_HASHERS } from './following-hasher.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('FollowingHasher', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cuttle-hasher-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes a file while it is written, following the writer, to the same digest as hashing it whole', async () => {
    const file = path.join(dir, 'upload.part');
    await writeFile(file, '');
    const hasher = FollowingHasher.forUpload(file, FOLLOWING_HASH_MIN_BYTES);
    expect(hasher).not.toBeNull();
    const parts: Buffer[] = [];
    let written = 0;
    for (let i = 0; i < 12; i++) {
      const part = randomBytes(1024 * 1024 + i * 4099);
      await appendFile(file, part);
      parts.push(part);
      written += part.length;
      hasher!.advance(written);
    }
    expect(await hasher!.finish(written)).toBe(sha256(Buffer.concat(parts)));
  });

  it('hashes small or unannounced uploads inline (no worker), and runs at most a few workers at once', async () => {
    const file = path.join(dir, 'x.part');
    expect(FollowingHasher.forUpload(file, FOLLOWING_HASH_MIN_BYTES - 1)).toBeNull();
    expect(FollowingHasher.forUpload(file, undefined)).toBeNull();
    await writeFile(file, 'abc');
    const hashers = Array.from({ length: MAX_FOLLOWING_HASHERS }, () => FollowingHasher.forUpload(file, FOLLOWING_HASH_MIN_BYTES));
    expect(hashers.every((h) => h !== null)).toBe(true);
    expect(FollowingHasher.forUpload(file, FOLLOWING_HASH_MIN_BYTES)).toBeNull();
    for (const h of hashers) h!.abort();
    await expect(hashers[0]!.finish(3)).resolves.toBe('');
    // aborted workers free their places
    await new Promise((r) => setTimeout(r, 50));
    const again = FollowingHasher.forUpload(file, FOLLOWING_HASH_MIN_BYTES);
    expect(again).not.toBeNull();
    expect(await again!.finish(3)).toBe(sha256(Buffer.from('abc')));
  });

  it('falls back to hashing the file by streaming it when the worker fails', async () => {
    const file = path.join(dir, 'short.part');
    const bytes = randomBytes(5000);
    await writeFile(file, bytes);
    const hasher = FollowingHasher.forUpload(file, FOLLOWING_HASH_MIN_BYTES);
    // told of more bytes than the file has, the worker fails; the digest still comes, from the file itself
    expect(await hasher!.finish(9000)).toBe(sha256(bytes));
  });
});
