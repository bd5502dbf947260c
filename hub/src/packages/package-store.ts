import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, mkdirSync, renameSync, existsSync, rmSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CuttleError, isCuttleError, receivedBuffers } from '@cuttle/shared';
import { DurableFile } from './durable-file-writer.js';
import { FollowingHasher } from './following-hasher.js';

export interface ReceiveLimits {
  maxSize: number;
  /** Cut off the stream when no byte arrives for this long; 0 disables it. */
  idleTimeoutMs: number;
  /** When the sender announced a length (Content-Length), the body must have exactly it. */
  expectedSize?: number | undefined;
}

export interface ReceivedFile {
  tmpPath: string;
  sha256: string;
  size: number;
}

/** Hashes and counts bytes as they pass, refusing more than maxSize and a stalled sender. */
class HashAndCount extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxSize: number,
    private readonly idleTimeoutMs: number,
    private readonly onChunk: () => void,
    /** false: a FollowingHasher hashes the written file instead */
    private readonly hashInline: boolean,
  ) {
    super();
    this.armIdleTimer();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxSize) {
      callback(new CuttleError('package-too-large', `The package is larger than the ${this.maxSize} bytes this hub accepts.`, { maxSize: this.maxSize }));
      return;
    }
    if (this.hashInline) this.hash.update(chunk);
    // each chunk of a request body is a buffer of its own: collected young, not by full GCs
    receivedBuffers.received(chunk.length);
    this.armIdleTimer();
    this.onChunk();
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.clearIdleTimer();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.clearIdleTimer();
    callback(error);
  }

  private armIdleTimer(): void {
    if (this.idleTimeoutMs <= 0) return;
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.destroy(new CuttleError('upload-timeout', `No data arrived for ${Math.round(this.idleTimeoutMs / 1000)} s; the upload was cut off.`));
    }, this.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

/**
 * Packages on disk, content-addressed by SHA-256: `<root>/sha256/<ab>/<sha256>.zip`.
 * Bytes arrive in `<tmp>` first and are renamed into place only once complete and checked.
 */
export class PackageStore {
  readonly blobRoot: string;
  /**
   * Files to delete are renamed here first (instant, and safe inside a DB transaction) and
   * unlinked in the background: unlinking a large file takes long enough to stall the hub.
   * Emptied at start, like tmpDir: a folder of the store's own, on the same file system.
   */
  readonly trashDir: string;
  private readonly deleting = new Set<Promise<void>>();

  constructor(
    root: string,
    readonly tmpDir: string,
    trashDir: string,
  ) {
    this.blobRoot = path.join(root, 'sha256');
    this.trashDir = trashDir;
  }

  init(): void {
    mkdirSync(this.blobRoot, { recursive: true });
    // Whatever is left in tmp is an upload that never finished (crash, kill): it is not a package;
    // whatever is left in trash was on its way out.
    for (const dir of [this.tmpDir, this.trashDir]) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
    }
  }

  /** Resolves once every background deletion started so far has ended. */
  async settled(): Promise<void> {
    while (this.deleting.size > 0) await Promise.all([...this.deleting]);
  }

  blobPath(sha256: string): string {
    return path.join(this.blobRoot, sha256.slice(0, 2), `${sha256}.zip`);
  }

  /**
   * Opens a blob for reading. The file is open when this resolves, so a blob removed meanwhile
   * (a concurrent delete) fails here, before any answer has started, not halfway through one.
   */
  async open(sha256: string): Promise<Readable> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(this.blobPath(sha256), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new CuttleError('package-not-found', 'The package was removed while it was being opened.', { sha256 });
      }
      throw error;
    }
    return handle.createReadStream();
  }

  /** Streams source into a new temp file, hashing and counting; the temp file is gone on any failure. */
  async receive(source: Readable, limits: ReceiveLimits): Promise<ReceivedFile> {
    // Listen to the source before the first await: an 'error' it emits while the temp file is
    // being created would otherwise find no listener and crash the process. Until the counter
    // exists, a failure is only recorded and honoured once the file is open.
    let counter: HashAndCount | null = null;
    let earlyError: Error | null = null;
    let sourceEnded = false;
    const fail = (error: Error) => {
      if (counter) counter.destroy(error);
      else earlyError ??= error;
    };
    const onEnd = () => (sourceEnded = true);
    const onClose = () => {
      if (!sourceEnded) fail(new Error('the source closed before its end'));
    };
    const onError = (error: Error) => fail(error);
    source.on('end', onEnd).on('close', onClose).on('error', onError);

    const tmpPath = path.join(this.tmpDir, `upload-${randomBytes(12).toString('hex')}.part`);
    let file: DurableFile;
    try {
      file = await DurableFile.create(tmpPath);
    } catch (error) {
      source.off('end', onEnd).off('close', onClose).off('error', onError);
      throw error;
    }
    const created = file;
    const hasher = FollowingHasher.forUpload(tmpPath, limits.expectedSize);
    const onChunk = () => {
      created.poke();
      hasher?.advance(created.stream.bytesWritten);
    };
    const hashAndCount = new HashAndCount(limits.maxSize, limits.idleTimeoutMs, onChunk, hasher === null);
    counter = hashAndCount;
    // The source is piped by hand, not handed to pipeline(): on failure it must stay open, so
    // that an HTTP request's socket can still carry the error answer. Its owner closes it.
    if (earlyError) hashAndCount.destroy(earlyError);
    else source.pipe(hashAndCount);
    try {
      await pipeline(hashAndCount, file.stream);
      const [sha256] = await Promise.all([hasher ? hasher.finish(hashAndCount.size) : hashAndCount.hash.digest('hex'), file.finish()]);
      if (limits.expectedSize !== undefined && hashAndCount.size !== limits.expectedSize) {
        throw new CuttleError('upload-incomplete', `The body had ${hashAndCount.size} bytes but Content-Length announced ${limits.expectedSize}.`, {
          received: hashAndCount.size,
          expected: limits.expectedSize,
        });
      }
      return { tmpPath, sha256, size: hashAndCount.size };
    } catch (error) {
      hasher?.abort();
      source.unpipe(hashAndCount);
      await file.abandon();
      await fsp.rm(tmpPath, { force: true });
      if (isCuttleError(error)) throw error;
      throw new CuttleError('upload-incomplete', 'The upload ended early: the client went away or the body was cut short.', {
        received: hashAndCount.size,
        reason: (error as Error).message,
      });
    } finally {
      source.off('end', onEnd).off('close', onClose).off('error', onError);
    }
  }

  /** Moves a received temp file to its content address (synchronous: safe inside a DB transaction). */
  commit(file: ReceivedFile): void {
    const target = this.blobPath(file.sha256);
    if (existsSync(target)) {
      this.trash(file.tmpPath);
      return;
    }
    mkdirSync(path.dirname(target), { recursive: true });
    renameSync(file.tmpPath, target);
  }

  discard(tmpPath: string): void {
    rmSync(tmpPath, { force: true });
  }

  remove(sha256: string): void {
    this.trash(this.blobPath(sha256));
  }

  /** Takes a file out of the store at once (a rename) and deletes it in the background; a missing file is fine. */
  private trash(file: string): void {
    const doomed = path.join(this.trashDir, `${path.basename(file)}.${randomBytes(6).toString('hex')}`);
    try {
      renameSync(file, doomed);
    } catch {
      // already gone; or no trash folder, or another file system: deleted here and now
      if (existsSync(file)) rmSync(file, { force: true });
      return;
    }
    const deletion: Promise<void> = fsp
      .rm(doomed, { force: true })
      .catch(() => undefined) // left for the next start, which empties the trash
      .finally(() => this.deleting.delete(deletion));
    this.deleting.add(deletion);
  }

  /** Every blob on disk, by SHA-256. */
  listBlobs(): string[] {
    const shas: string[] = [];
    for (const prefix of readdirSync(this.blobRoot)) {
      for (const name of readdirSync(path.join(this.blobRoot, prefix))) {
        if (/^[0-9a-f]{64}\.zip$/.test(name)) shas.push(name.slice(0, 64));
      }
    }
    return shas;
  }
}
