import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { HubChannel } from '../agent/job-handler.js';
import { createSilentLogger } from '../log/logger.js';
import { TempDirs } from '../test-support/temp-dir.js';
import { sha256Of } from '../test-support/zip-builder.js';
import { homeLayout } from './app-paths.js';
import { DEPLOY_DEFAULTS } from './deploy-defaults.js';
import { PackageCache } from './package-cache.js';
import { MAX_WRITE_BYTES, PackageReceiver, takeBytes } from './package-receiver.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

const channel: HubChannel = { send: () => true, closed: false, bufferedAmount: () => 0, pause: () => () => {} };

describe('takeBytes', () => {
  const buffers = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('hi')];
  const text = (list: Buffer[]): string[] => list.map((buffer) => buffer.toString());

  it('takes whole buffers while they fit and splits the one where the count ends', () => {
    const { piece, bytes, rest } = takeBytes(buffers, 5);
    expect(text(piece)).toEqual(['abc', 'de']);
    expect(bytes).toBe(5);
    expect(text(rest)).toEqual(['fg', 'hi']);
  });

  it('takes everything when the buffers hold fewer bytes than asked', () => {
    const { piece, bytes, rest } = takeBytes(buffers, 100);
    expect(text(piece)).toEqual(['abc', 'defg', 'hi']);
    expect(bytes).toBe(9);
    expect(rest).toEqual([]);
  });

  it('ends a piece exactly at a buffer boundary without an empty remainder', () => {
    const { piece, bytes, rest } = takeBytes(buffers, 7);
    expect(text(piece)).toEqual(['abc', 'defg']);
    expect(bytes).toBe(7);
    expect(text(rest)).toEqual(['hi']);
  });
});

describe('PackageReceiver writes', () => {
  it(`hands the kernel at most ${MAX_WRITE_BYTES / 1024 / 1024} MiB per write, however much is queued, and writes every byte in order`, async () => {
    const home = await temp.make('cuttle-receiver-');
    const cache = new PackageCache(homeLayout(home), { ...DEPLOY_DEFAULTS }, createSilentLogger(), () => Date.now(), async () => null);
    const bytes = randomBytes(5 * 1024 * 1024 + 12_345);
    /** offset and length of every write, as the hook saw them */
    const writes: Array<{ offset: number; length: number }> = [];
    const opened = await PackageReceiver.open({
      cache,
      sha256: sha256Of(bytes),
      size: bytes.length,
      signal: new AbortController().signal,
      highWaterBytes: 64 * 1024 * 1024, // never pauses: everything below queues up behind the first write
      beforeWrite: async (_file, offset, length) => {
        writes.push({ offset, length });
        await new Promise((resolve) => setTimeout(resolve, 5)); // a slow disk
      },
    });
    if (opened.kind !== 'receiving') throw new Error('expected a transfer');
    // chunks of 256 KiB + 7 bytes, so that pieces end inside chunks
    const chunk = 256 * 1024 + 7;
    for (let offset = 0; offset < bytes.length; offset += chunk) opened.receiver.accept(offset, bytes.subarray(offset, offset + chunk), channel);
    const file = await opened.receiver.done;

    expect(Math.max(...writes.map((write) => write.length))).toBe(MAX_WRITE_BYTES); // the queue did hold more than one write's worth
    let next = 0;
    for (const write of writes) {
      expect(write.offset).toBe(next);
      expect(write.length).toBeGreaterThan(0);
      expect(write.length).toBeLessThanOrEqual(MAX_WRITE_BYTES);
      next += write.length;
    }
    expect(next).toBe(bytes.length);
    expect(sha256Of(await readFile(file))).toBe(sha256Of(bytes));
  });
});
