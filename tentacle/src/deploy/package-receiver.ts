import { createHash, type Hash } from 'node:crypto';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { hashFile } from '@cuttle/shared';
import type { HubChannel } from '../agent/job-handler.js';
import { isDiskFull, JobFailure } from './job-failure.js';
import type { PackageCache } from './package-cache.js';

/**
 * Received bytes reach the file through one staging buffer of this size per transfer: copied
 * there, then written, at most this much per write. Two costs of writing the network's buffers
 * directly, measured on our 2-vCPU test machine (a virtual machine that hands free memory back
 * to its host): the kernel reading each freshly allocated buffer page by page (146 MiB from
 * fresh 256 KiB buffers: 0.26-0.35 s of system time, through the staging buffer 0.15-0.20 s);
 * and writes over 1 MiB, for which the page cache takes 2 MiB folios that are faulted in afresh
 * (146 MiB in 4 MiB writes: 0.40-0.50 s of system time, in 1 MiB writes 0.02 s).
 */
export const MAX_WRITE_BYTES = 1024 * 1024;

/**
 * Called before each write to a partial package file (file, offset, bytes). The seam through
 * which tests make a write fail: throw an error with `code: 'ENOSPC'` to simulate a full disk.
 */
export type PackageWriteHook = (file: string, offset: number, length: number) => void | Promise<void>;

export interface ReceiverOptions {
  cache: PackageCache;
  sha256: string;
  size: number;
  signal: AbortSignal;
  /** the write may hold this many bytes before the socket is paused */
  highWaterBytes: number;
  beforeWrite?: PackageWriteHook;
}

export type OpenedReceiver = { kind: 'complete'; file: string } | { kind: 'receiving'; receiver: PackageReceiver };

/**
 * Receives one package into `packages/partial/<sha256>.part`: chunks must come in order, the
 * bytes are hashed as they arrive and appended to the file; reading from the socket pauses while
 * the writes fall behind. At the announced size the file is synced, its SHA-256 checked and it is
 * moved into the cache. An abort (cancel, lost connection) keeps the partial file for a resume.
 */
export class PackageReceiver {
  /** Bytes this job received over the websocket. */
  received = 0;
  readonly done: Promise<string>;
  private next: number;
  private written: number;
  private pending: Buffer[] = [];
  /** What is queued is copied here and written from here (see MAX_WRITE_BYTES). */
  private readonly staging = Buffer.allocUnsafe(MAX_WRITE_BYTES);
  private pendingBytes = 0;
  private writing: Promise<void> | null = null;
  private paused: (() => void) | undefined;
  /** no more chunks are taken: complete, failed or aborted */
  private settled = false;
  /** a write failed: what is queued is dropped */
  private writeFailed = false;
  private resolveDone!: (file: string) => void;
  private rejectDone!: (error: unknown) => void;

  private constructor(
    private readonly options: ReceiverOptions,
    private readonly file: string,
    private readonly handle: FileHandle,
    private readonly hash: Hash,
    /** where the transfer starts: the bytes of an earlier partial file, already hashed */
    readonly startOffset: number,
  ) {
    this.next = startOffset;
    this.written = startOffset;
    this.done = new Promise<string>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
    const { signal } = options;
    if (signal.aborted) this.stop(signal.reason);
    else signal.addEventListener('abort', () => this.stop(signal.reason), { once: true });
  }

  /**
   * Opens the partial file for appending, after hashing the bytes an earlier attempt left in it.
   * A partial file that already holds the whole, correct package goes straight into the cache.
   */
  static async open(options: ReceiverOptions): Promise<OpenedReceiver> {
    const { cache, sha256, size, signal } = options;
    await cache.ensureFolders();
    const file = cache.partialPath(sha256);
    let existing = (await stat(file).catch(() => null))?.size ?? 0;
    const hash = createHash('sha256');
    if (existing > size) {
      await rm(file, { force: true });
      existing = 0;
    }
    if (existing > 0) await hashFile(file, hash, signal);
    if (existing === size && existing > 0) {
      if (hash.digest('hex') === sha256) return { kind: 'complete', file: await cache.commit(sha256) };
      await rm(file, { force: true });
      return PackageReceiver.open(options);
    }
    const handle = await open(file, existing > 0 ? 'a' : 'w', 0o644);
    const receiver = new PackageReceiver(options, file, handle, hash, existing);
    if (size === 0) void receiver.complete();
    return { kind: 'receiving', receiver };
  }

  /** False once the transfer completed, failed or was aborted: later chunks are stray. */
  get accepting(): boolean {
    return !this.settled;
  }

  /** One chunk: it must start at the next expected offset and stay within the size. Throws JobFailure. */
  accept(offset: number, data: Buffer, channel: HubChannel): void {
    if (this.settled) throw new JobFailure('transfer-failed', `package bytes arrived at offset ${offset} after the transfer ended`);
    if (offset !== this.next) {
      throw new JobFailure('transfer-failed', `a package chunk arrived for offset ${offset}, but the next expected offset is ${this.next}`);
    }
    if (offset + data.length > this.options.size) {
      throw new JobFailure('transfer-failed', `the hub sent more bytes than the package's size of ${this.options.size}`);
    }
    if (data.length === 0) return;
    this.hash.update(data);
    this.next += data.length;
    this.received += data.length;
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.writing === null) this.writing = this.drain();
    if (this.paused === undefined && this.pendingBytes >= this.options.highWaterBytes) this.paused = channel.pause();
    if (this.next === this.options.size) void this.complete();
  }

  /** Writes what is queued, at most MAX_WRITE_BYTES at a time through the staging buffer, until the queue is empty. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.writeFailed) {
        const { piece, bytes, rest } = takeBytes(this.pending, MAX_WRITE_BYTES);
        this.pending = rest;
        let staged = 0;
        for (const part of piece) staged += part.copy(this.staging, staged);
        await this.options.beforeWrite?.(this.file, this.written, bytes);
        await writeAll(this.handle, this.staging.subarray(0, bytes));
        this.written += bytes;
        this.pendingBytes -= bytes;
        if (this.pendingBytes <= this.options.highWaterBytes / 4) this.resume();
      }
    } catch (error) {
      this.writeFailed = true;
      this.pending = [];
      this.fail(error);
    } finally {
      this.writing = null;
    }
  }

  private async complete(): Promise<void> {
    try {
      while (this.writing !== null) await this.writing;
      // No fsync: a cached package is hashed again before every later use, so one that a crash
      // or power loss left torn is found and fetched anew; flushing 150 MiB per tentacle here
      // would only serialize deployments on the disk.
      if (this.settled) return;
      this.settled = true;
      await this.handle.close();
      this.resume();
      const actual = this.hash.digest('hex');
      if (actual !== this.options.sha256) {
        await rm(this.file, { force: true });
        this.rejectDone(
          new JobFailure('package-corrupt', `the received package is corrupt: its SHA-256 is ${actual}, but the package's SHA-256 is ${this.options.sha256}`),
        );
        return;
      }
      this.resolveDone(await this.options.cache.commit(this.options.sha256));
    } catch (error) {
      this.fail(error);
    }
  }

  /** A write or the final checks failed: the job fails; a full disk also loses the partial file. */
  private fail(error: unknown): void {
    const failure = isDiskFull(error)
      ? new JobFailure('disk-full', `the disk is full: cannot store the package (${(error as Error).message})`, { cause: error })
      : new JobFailure('transfer-failed', `cannot store the package: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    void this.close(failure, isDiskFull(error));
  }

  /** The job was aborted (cancel, lost connection, package-abort): what arrived is written, the file kept. */
  private stop(reason: unknown): void {
    void this.close(reason, false);
  }

  private async close(reason: unknown, removeFile: boolean): Promise<void> {
    const wasSettled = this.settled;
    this.settled = true;
    this.resume();
    if (removeFile) this.pending = [];
    if (!wasSettled) {
      while (this.writing !== null) await this.writing.catch(() => {});
      await this.handle.close().catch(() => {});
    }
    if (removeFile) await rm(this.file, { force: true }).catch(() => {});
    this.rejectDone(reason);
  }

  private resume(): void {
    const release = this.paused;
    this.paused = undefined;
    release?.();
  }
}

/** The first `max` bytes of `buffers` (a buffer split where the count ends) and the buffers after them. */
export function takeBytes(buffers: Buffer[], max: number): { piece: Buffer[]; bytes: number; rest: Buffer[] } {
  const piece: Buffer[] = [];
  let bytes = 0;
  let index = 0;
  for (; index < buffers.length && bytes < max; index++) {
    const buffer = buffers[index] as Buffer;
    const room = max - bytes;
    if (buffer.length <= room) {
      piece.push(buffer);
      bytes += buffer.length;
      continue;
    }
    piece.push(buffer.subarray(0, room));
    bytes += room;
    return { piece, bytes, rest: [buffer.subarray(room), ...buffers.slice(index + 1)] };
  }
  return { piece, bytes, rest: buffers.slice(index) };
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  for (let done = 0; done < data.length; ) done += (await handle.write(data, done, data.length - done)).bytesWritten;
}
