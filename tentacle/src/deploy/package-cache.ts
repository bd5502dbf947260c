import { mkdir, readdir, rename, rm, stat, statfs, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log/logger.js';
import type { HomeLayout } from './app-paths.js';
import { abortable } from './abortable.js';
import type { DeployDefaults } from './deploy-defaults.js';

export interface DiskSpace {
  free: number;
  total: number;
}

/** Free and total bytes of the file system that holds `dir`; null when unknown. */
export type DiskSpaceReader = (dir: string) => Promise<DiskSpace | null>;

export const readDiskSpace: DiskSpaceReader = async (dir) => {
  try {
    const fs = await statfs(dir);
    return { free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
  } catch {
    return null;
  }
};

const CACHED = /^([0-9a-f]{64})\.zip$/;
const PARTIAL = /^([0-9a-f]{64})\.part$/;

export interface PruneReport {
  removed: string[];
  freedBytes: number;
}

/**
 * The package cache: `packages/<sha256>.zip`, each verified before it got there, its mtime touched
 * whenever a job uses it. One transfer per SHA-256 at a time (a second job for the same package
 * waits and then finds it cached), and a use count that keeps packages of running jobs from
 * pruning.
 */
export class PackageCache {
  private readonly transfers = new Map<string, Promise<void>>();
  private readonly users = new Map<string, number>();

  constructor(
    private readonly layout: HomeLayout,
    private readonly defaults: DeployDefaults,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly diskSpace: DiskSpaceReader,
  ) {}

  zipPath(sha256: string): string {
    return path.join(this.layout.packages, `${sha256}.zip`);
  }

  partialPath(sha256: string): string {
    return path.join(this.layout.partial, `${sha256}.part`);
  }

  /** The cached package when present with the right size (its mtime is touched); else null. */
  async lookup(sha256: string, size: number): Promise<string | null> {
    const file = this.zipPath(sha256);
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) return null;
    if (info.size !== size) {
      await rm(file, { force: true });
      return null;
    }
    const at = new Date(this.now());
    await utimes(file, at, at).catch(() => {});
    return file;
  }

  /** Moves a verified partial file into the cache. */
  async commit(sha256: string): Promise<string> {
    const file = this.zipPath(sha256);
    await rename(this.partialPath(sha256), file);
    return file;
  }

  /** Removes a cached package found damaged, so that the next job transfers it again. */
  async discard(sha256: string): Promise<void> {
    await rm(this.zipPath(sha256), { force: true });
  }

  async ensureFolders(): Promise<void> {
    await mkdir(this.layout.partial, { recursive: true });
  }

  /** Marks the package as used by a running job until the returned function is called. */
  use(sha256: string): () => void {
    this.users.set(sha256, (this.users.get(sha256) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.users.get(sha256) ?? 1) - 1;
      if (left <= 0) this.users.delete(sha256);
      else this.users.set(sha256, left);
    };
  }

  /** Waits until no other job transfers this package, then holds the transfer until release. */
  async lockTransfer(sha256: string, signal: AbortSignal): Promise<() => void> {
    for (;;) {
      signal.throwIfAborted();
      const busy = this.transfers.get(sha256);
      if (busy === undefined) break;
      await abortable(busy, signal);
    }
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    this.transfers.set(sha256, held);
    return () => {
      if (this.transfers.get(sha256) === held) this.transfers.delete(sha256);
      release();
    };
  }

  /**
   * Removes cached packages not used for cacheMaxUnusedMs, then, while the disk has less than
   * cacheMinFreeBytes or cacheMinFreeRatio free, the least recently used ones. Never one in `keep`
   * (a kept release came from it) nor one a running job uses. Stale partial files go by age too.
   */
  async prune(keep: ReadonlySet<string>): Promise<PruneReport> {
    const report: PruneReport = { removed: [], freedBytes: 0 };
    const candidates: Array<{ sha256: string; file: string; size: number; mtimeMs: number }> = [];
    for (const name of await readdir(this.layout.packages).catch(() => [] as string[])) {
      const sha256 = CACHED.exec(name)?.[1];
      if (sha256 === undefined || keep.has(sha256) || this.users.has(sha256) || this.transfers.has(sha256)) continue;
      const file = path.join(this.layout.packages, name);
      const info = await stat(file).catch(() => null);
      if (info !== null && info.isFile()) candidates.push({ sha256, file, size: info.size, mtimeMs: info.mtimeMs });
    }
    candidates.sort((a, b) => a.mtimeMs - b.mtimeMs);
    const cutoff = this.now() - this.defaults.cacheMaxUnusedMs;
    const remove = async (candidate: (typeof candidates)[number], why: string): Promise<void> => {
      try {
        await rm(candidate.file, { force: true });
        report.removed.push(candidate.sha256);
        report.freedBytes += candidate.size;
        this.log.info('removed a cached package', { sha256: candidate.sha256, bytes: candidate.size, why });
      } catch (error) {
        this.log.warn('cannot remove a cached package', { file: candidate.file, err: error });
      }
    };
    while (candidates.length > 0 && (candidates[0]?.mtimeMs ?? Infinity) < cutoff) {
      const oldest = candidates.shift();
      if (oldest !== undefined) await remove(oldest, 'unused for too long');
    }
    while (candidates.length > 0 && (await this.diskIsLow())) {
      const oldest = candidates.shift();
      if (oldest !== undefined) await remove(oldest, 'low on disk space');
    }
    await this.pruneStalePartials(cutoff);
    return report;
  }

  private async diskIsLow(): Promise<boolean> {
    const space = await this.diskSpace(this.layout.packages);
    if (space === null || space.total <= 0) return false;
    return space.free < this.defaults.cacheMinFreeBytes || space.free / space.total < this.defaults.cacheMinFreeRatio;
  }

  private async pruneStalePartials(cutoff: number): Promise<void> {
    for (const name of await readdir(this.layout.partial).catch(() => [] as string[])) {
      const sha256 = PARTIAL.exec(name)?.[1];
      if (sha256 === undefined || this.transfers.has(sha256)) continue;
      const file = path.join(this.layout.partial, name);
      const info = await stat(file).catch(() => null);
      if (info !== null && info.mtimeMs < cutoff) await rm(file, { force: true }).catch(() => {});
    }
  }
}
