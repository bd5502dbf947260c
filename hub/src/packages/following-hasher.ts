import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { hashFile } from '@cuttle/shared';

/** Uploads announced at least this large are hashed in a worker thread; smaller ones inline. */
export const FOLLOWING_HASH_MIN_BYTES = 16 * 1024 * 1024;
/** Hash workers running at once; more uploads than this hash inline. */
export const MAX_FOLLOWING_HASHERS = 2;
/** The worker is told how far the file is written in steps of at least this many bytes. */
const ADVANCE_STEP_BYTES = 4 * 1024 * 1024;

// Runs as a CommonJS script in the worker (eval), so that it needs no file of its own.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const fd = openSync(workerData.file, 'r');
const hash = createHash('sha256');
const buffer = Buffer.allocUnsafe(1024 * 1024);
let hashed = 0;
let available = 0;
let end = -1;
parentPort.on('message', (message) => {
  try {
    if (typeof message.upTo === 'number') available = Math.max(available, message.upTo);
    if (typeof message.end === 'number') available = end = message.end;
    while (hashed < available) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, available - hashed), hashed);
      if (read === 0) throw new Error('the file ends at ' + hashed + ' bytes, before the ' + available + ' written');
      hash.update(buffer.subarray(0, read));
      hashed += read;
    }
    if (end >= 0) {
      closeSync(fd);
      parentPort.postMessage({ sha256: hash.digest('hex') });
      parentPort.close();
    }
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
    parentPort.close();
  }
});
`;

let running = 0;

/**
 * The SHA-256 of a file being written, computed in a worker thread that reads it behind the
 * writer: the hub's main thread, which reads the socket and writes the file, does not also
 * hash every byte. The worker reads what was written from the page cache. Should the worker
 * fail, the file is hashed again by streaming it, so a digest always comes.
 */
export class FollowingHasher {
  private told = 0;
  /** The worker's digest, or null once it failed (or was stopped) without one. */
  private readonly outcome: Promise<string | null>;

  private constructor(
    private readonly file: string,
    private readonly worker: Worker,
  ) {
    this.outcome = new Promise<string | null>((resolve) => {
      worker.on('message', (message: { sha256?: string; error?: string }) => resolve(message.sha256 ?? null));
      worker.on('error', () => resolve(null));
      worker.on('exit', () => {
        running--; // the thread is gone: its place is free
        resolve(null);
      });
    });
  }

  /** A hasher for `file` when the upload is large enough and a worker is free; otherwise null (hash inline). */
  static forUpload(file: string, announcedSize: number | undefined): FollowingHasher | null {
    if (announcedSize === undefined || announcedSize < FOLLOWING_HASH_MIN_BYTES || running >= MAX_FOLLOWING_HASHERS) return null;
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file } });
    } catch {
      return null;
    }
    running++;
    return new FollowingHasher(file, worker);
  }

  /** The file is written up to `bytes` (the writer's count of completed writes). */
  advance(bytes: number): void {
    if (bytes - this.told < ADVANCE_STEP_BYTES) return;
    this.told = bytes;
    this.worker.postMessage({ upTo: bytes });
  }

  /**
   * The file is complete at `size` bytes (every write has ended): resolves with its SHA-256. A
   * worker that failed, at any time, is replaced by hashing the now complete file, which must
   * have exactly `size` bytes.
   */
  async finish(size: number): Promise<string> {
    this.worker.postMessage({ end: size });
    const sha256 = await this.outcome;
    if (sha256 !== null) return sha256;
    const hash = createHash('sha256');
    const bytes = await hashFile(this.file, hash);
    if (bytes !== size) throw new Error(`the received file has ${bytes} bytes, not the ${size} written`);
    return hash.digest('hex');
  }

  /** The upload failed: the worker stops. */
  abort(): void {
    void this.worker.terminate();
  }
}
