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
    // stopped workers free their places once their threads are gone
    await new Promise((r) => setTimeout(r, 200));
    const again = FollowingHasher.forUpload(file, FOLLOWING_HASH_MIN_BYTES);
    expect(again).not.toBeNull();
    expect(await again!.finish(3)).toBe(sha256(Buffer.from('abc')));
  });

  it('falls back to hashing the file by streaming it when the worker cannot even open it', async () => {
    const file = path.join(dir, 'late.part');
    const hasher = FollowingHasher.forUpload(file, FOLLOWING_HASH_MIN_BYTES)!; // no such file yet: the worker fails
    await new Promise((r) => setTimeout(r, 200));
    const bytes = randomBytes(5000);
    await writeFile(file, bytes);
    expect(await hasher.finish(bytes.length)).toBe(sha256(bytes));
  });

  it('hashes the complete file when the worker failed early, while the file was still being written', async () => {
    const file = path.join(dir, 'early.part');
    const first = randomBytes(2 * 1024 * 1024);
    await writeFile(file, first);
    const hasher = FollowingHasher.forUpload(file, FOLLOWING_HASH_MIN_BYTES)!;
    hasher.advance(64 * 1024 * 1024); // more than is written: the worker fails now
    await new Promise((r) => setTimeout(r, 200));
    const rest = randomBytes(3 * 1024 * 1024);
    await appendFile(file, rest);
    const whole = Buffer.concat([first, rest]);
    expect(await hasher.finish(whole.length)).toBe(sha256(whole));
  });

  it('fails when the worker failed and the file does not have the size written', async () => {
    const file = path.join(dir, 'odd.part');
    await writeFile(file, randomBytes(1000));
    const hasher = FollowingHasher.forUpload(file, FOLLOWING_HASH_MIN_BYTES)!;
    hasher.abort();
    await expect(hasher.finish(2000)).rejects.toThrow('has 1000 bytes, not the 2000 written');
  });
});
