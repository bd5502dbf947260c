import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';

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
  private aborted = false;
  private readonly result: Promise<string>;

  private constructor(
    private readonly file: string,
    private readonly worker: Worker,
  ) {
    this.result = new Promise<string>((resolve) => {
      let settled = false;
      const settle = (sha256: string | null): void => {
        if (settled) return;
        settled = true;
        running--;
        if (sha256 !== null) resolve(sha256);
        else if (this.aborted) resolve('');
        else resolve(hashFile(this.file));
      };
      worker.on('message', (message: { sha256?: string; error?: string }) => settle(message.sha256 ?? null));
      worker.on('error', () => settle(null));
      worker.on('exit', () => settle(null));
    });
    this.result.catch(() => undefined);
  }

  /** A hasher for `file` when the upload is large enough and a worker is free; otherwise null (hash inline). */
  static forUpload(file: string, announcedSize: number | undefined): FollowingHasher | null {
    if (announcedSize === undefined || announcedSize < FOLLOWING_HASH_MIN_BYTES || running >= MAX_FOLLOWING_HASHERS) return null;
    running++;
    try {
      return new FollowingHasher(file, new Worker(WORKER_SOURCE, { eval: true, workerData: { file } }));
    } catch {
      running--;
      return null;
    }
  }

  /** The file is written up to `bytes` (the writer's count of completed writes). */
  advance(bytes: number): void {
    if (bytes - this.told < ADVANCE_STEP_BYTES) return;
    this.told = bytes;
    this.worker.postMessage({ upTo: bytes });
  }

  /** The file is complete at `size` bytes: resolves with its SHA-256. */
  finish(size: number): Promise<string> {
    this.worker.postMessage({ end: size });
    return this.result;
  }

  /** The upload failed: the worker stops. */
  abort(): void {
    this.aborted = true;
    void this.worker.terminate();
  }
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
