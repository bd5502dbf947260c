import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HubChannel } from '../agent/job-handler.js';
import { createSilentLogger } from '../log/logger.js';
import { TempDirs } from '../test-support/temp-dir.js';
import { sha256Of } from '../test-support/zip-builder.js';
import { homeLayout } from './app-paths.js';
import { DEPLOY_DEFAULTS } from './deploy-defaults.js';
import { PackageCache, type DiskSpace } from './package-cache.js';
import { PackageReceiver } from './package-receiver.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

const DAY = 24 * 3600 * 1000;
const NOW = Date.parse('2025-06-01T00:00:00Z');
const sha = (n: number): string => n.toString(16).padStart(64, '0');

/** A cache with packages 1..n, package i last used i days ago and 100 bytes big. */
async function cacheWith(count: number, disk: (home: string) => Promise<DiskSpace | null>) {
  const home = await temp.make();
  const layout = homeLayout(home);
  await mkdir(layout.partial, { recursive: true });
  for (let i = 1; i <= count; i++) {
    const file = path.join(layout.packages, `${sha(i)}.zip`);
    await writeFile(file, Buffer.alloc(100));
    const at = new Date(NOW - i * DAY);
    await utimes(file, at, at);
  }
  const cache = new PackageCache(layout, { ...DEPLOY_DEFAULTS }, createSilentLogger(), () => NOW, () => disk(home));
  return { cache, layout, left: async () => (await readdir(layout.packages)).filter((n) => n.endsWith('.zip')).sort() };
}

describe('package cache pruning', () => {
  it('removes packages unused for 14 days, except those a kept release came from', async () => {
    const { cache, left } = await cacheWith(20, async () => ({ free: 100 * 1024 ** 3, total: 200 * 1024 ** 3 }));
    const report = await cache.prune(new Set([sha(17)]));
    expect(report.removed.sort()).toEqual([15, 16, 18, 19, 20].map(sha).sort());
    expect(await left()).toEqual([...Array.from({ length: 14 }, (_, i) => i + 1), 17].map((i) => `${sha(i)}.zip`).sort());
  });

  it('removes the least recently used ones while the disk is low, never a kept one or one in use', async () => {
    // "free" grows by 1 GiB for every package removed; 2 GiB free of 100 GiB is below 10 %
    let removedCount = 0;
    const { cache, layout, left } = await cacheWith(8, async (home) => {
      removedCount = 8 - (await readdir(homeLayout(home).packages)).filter((n) => n.endsWith('.zip')).length;
      return { free: (2 + removedCount * 3) * 1024 ** 3, total: 100 * 1024 ** 3 };
    });
    const release = cache.use(sha(7));
    const report = await cache.prune(new Set([sha(8)]));
    release();
    // free must reach 10 GiB: three removals (2 -> 5 -> 8 -> 11), oldest first, skipping 8 (kept) and 7 (in use)
    expect(report.removed).toEqual([sha(6), sha(5), sha(4)]);
    expect(await left()).toEqual([1, 2, 3, 7, 8].map((i) => `${sha(i)}.zip`));
    expect(existsSync(layout.partial)).toBe(true);
  });

  it('touches a package on use so that it counts as recently used', async () => {
    const { cache, layout } = await cacheWith(1, async () => null);
    expect(await cache.lookup(sha(1), 99)).toBeNull(); // wrong size: dropped
    await writeFile(path.join(layout.packages, `${sha(2)}.zip`), Buffer.alloc(10));
    await utimes(path.join(layout.packages, `${sha(2)}.zip`), new Date(NOW - 30 * DAY), new Date(NOW - 30 * DAY));
    expect(await cache.lookup(sha(2), 10)).toBe(path.join(layout.packages, `${sha(2)}.zip`));
    expect((await stat(path.join(layout.packages, `${sha(2)}.zip`))).mtimeMs).toBe(NOW);
    expect((await cache.prune(new Set())).removed).toEqual([]);
  });
});

describe('package receiver', () => {
  it('pauses the socket while writes fall behind and resumes it, and stores exactly the bytes sent', async () => {
    const home = await temp.make();
    const layout = homeLayout(home);
    const cache = new PackageCache(layout, { ...DEPLOY_DEFAULTS }, createSilentLogger(), () => NOW, async () => null);
    const bytes = randomBytes(1024 * 1024);
    let pauses = 0;
    let resumes = 0;
    const channel: HubChannel = {
      send: () => true,
      closed: false,
      bufferedAmount: () => 0,
      pause: () => {
        pauses++;
        return () => resumes++;
      },
    };
    const opened = await PackageReceiver.open({
      cache,
      sha256: sha256Of(bytes),
      size: bytes.length,
      signal: new AbortController().signal,
      highWaterBytes: 64 * 1024,
      // a slow disk
      beforeWrite: () => new Promise((resolve) => setTimeout(resolve, 5)),
    });
    if (opened.kind !== 'receiving') throw new Error('expected a transfer');
    for (let offset = 0; offset < bytes.length; offset += 32 * 1024) opened.receiver.accept(offset, bytes.subarray(offset, offset + 32 * 1024), channel);
    const file = await opened.receiver.done;
    expect(pauses).toBeGreaterThan(0);
    expect(resumes).toBe(pauses);
    expect((await readFile(file)).equals(bytes)).toBe(true);
    expect(opened.receiver.received).toBe(bytes.length);
  });
});
