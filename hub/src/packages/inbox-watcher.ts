import { promises as fsp } from 'node:fs';
import path from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { CuttleError, isCuttleError, type OverwriteMode } from '@cuttle/shared';
import type { PackageService } from './package-service.js';

export interface InboxOptions {
  dir: string;
  overwriteMode: OverwriteMode;
  /** A file is taken once its size has not changed for this long (slow copies). */
  settleMs: number;
}

export const REJECTED_DIR = 'rejected';

/**
 * Watches the inbox folder: each `.zip` that appears (copied, renamed in, or there at
 * start) is ingested like an upload and removed; a refused one is moved to
 * `rejected/` beside a `.error.txt` saying why. Files are taken one at a time.
 */
export class InboxWatcher {
  private watcher: FSWatcher | null = null;
  private queue: Promise<void> = Promise.resolve();
  private readonly pending = new Set<string>();
  private stopping = false;

  constructor(
    private readonly packages: PackageService,
    private readonly options: InboxOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await fsp.mkdir(path.join(this.options.dir, REJECTED_DIR), { recursive: true });
    const watcher = chokidar.watch(this.options.dir, {
      depth: 0,
      ignoreInitial: false,
      awaitWriteFinish: { stabilityThreshold: this.options.settleMs, pollInterval: 100 },
      ignored: (file, stats) => {
        if (file === this.options.dir) return false;
        const name = path.basename(file);
        if (name.startsWith('.')) return true;
        if (stats?.isDirectory()) return true;
        return stats?.isFile() === true && !name.toLowerCase().endsWith('.zip');
      },
    });
    watcher.on('add', (file) => this.enqueue(file));
    watcher.on('error', (error) => this.log.error({ err: error }, 'inbox watcher error'));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    this.watcher = watcher;
    this.log.info({ inbox: this.options.dir }, 'watching inbox folder');
  }

  /**
   * Stops watching. The file being ingested finishes; files queued behind it are not started
   * and stay in the inbox, to be taken at the next start.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.watcher?.close();
    this.watcher = null;
    await this.queue;
  }


  private enqueue(file: string): void {
    if (this.stopping || path.dirname(file) !== this.options.dir || !file.toLowerCase().endsWith('.zip') || this.pending.has(file)) return;
    this.pending.add(file);
    this.queue = this.queue
      .then(() => (this.stopping ? undefined : this.ingestFile(file)))
      .catch((error: unknown) => this.log.error({ err: error, file: path.basename(file) }, 'inbox file handling failed'))
      .finally(() => this.pending.delete(file));
  }

  /** Ingests one inbox file now: stored and removed, or moved to rejected/ with the reason. */
  async ingestFile(file: string): Promise<void> {
    const fileName = path.basename(file);
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(file, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      if (code === 'ENOENT') return; // gone before we got to it
      this.log.warn({ err: error, file: fileName }, 'cannot read an inbox file');
      await this.reject(file, fileName, new CuttleError('invalid-request', `cannot read the file (${code}): ${(error as Error).message}`));
      return;
    }
    // The size comes from the open file itself, so it cannot be another file's than the one read.
    let size: number;
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) {
        await handle.close();
        return;
      }
      size = stats.size;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    const stream = handle.createReadStream();
    // Read errors reach the ingest through receive(); this only keeps one that happens while
    // nobody listens (before receive() or after a precheck refusal) from crashing the hub.
    stream.on('error', () => undefined);
    try {
      const result = await this.packages.ingest(stream, {
        fileName,
        overwriteMode: this.options.overwriteMode,
        uploadedBy: 'inbox',
        expectedSize: size,
      });
      stream.destroy();
      await fsp.rm(file, { force: true });
      this.log.info({ file: fileName, packageId: result.package.id, version: result.package.version, created: result.created }, 'inbox package ingested');
    } catch (error) {
      stream.destroy();
      await this.reject(file, fileName, error);
    }
  }

  private async reject(file: string, fileName: string, error: unknown): Promise<void> {
    const reason = isCuttleError(error) ? error : new CuttleError('internal', `Unexpected failure: ${(error as Error).message}`);
    this.log.warn({ file: fileName, code: reason.code, reason: reason.message }, 'inbox package rejected');
    const rejectedDir = path.join(this.options.dir, REJECTED_DIR);
    let target = path.join(rejectedDir, fileName);
    try {
      await fsp.access(target);
      target = path.join(rejectedDir, `${fileName.slice(0, -4)}.${Date.now()}.zip`);
    } catch {
      // free name
    }
    const text = [
      `file: ${fileName}`,
      `rejected at: ${new Date().toISOString()}`,
      `code: ${reason.code}`,
      `reason: ${reason.message}`,
      ...(reason.details ? [`details: ${JSON.stringify(reason.details)}`] : []),
      '',
    ].join('\n');
    try {
      await fsp.writeFile(`${target}.error.txt`, text);
      await fsp.rename(file, target);
    } catch (moveError) {
      this.log.error({ err: moveError, file: fileName }, 'could not move a rejected inbox file');
    }
  }
}
