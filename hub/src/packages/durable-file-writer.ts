import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/** Flush to disk every this many bytes while writing, so the final flush is short. */
export const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

/**
 * Writes a stream to an open file and makes it durable: data is flushed to disk in the
 * background every SYNC_EVERY_BYTES while the upload goes on (overlapping network and disk),
 * and once more at the end, before the stream finishes. The file handle is closed either way.
 */
export class DurableFileWriter extends Writable {
  private unsynced = 0;
  private syncing: Promise<void> | null = null;
  private syncError: Error | null = null;

  constructor(
    private readonly handle: FileHandle,
    private readonly syncEveryBytes = SYNC_EVERY_BYTES,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    if (this.syncError) {
      callback(this.syncError);
      return;
    }
    const buffers = chunks.map((c) => c.chunk);
    this.writeAll(buffers).then(() => {
      this.unsynced += buffers.reduce((n, b) => n + b.length, 0);
      if (this.unsynced >= this.syncEveryBytes && !this.syncing) {
        this.unsynced = 0;
        this.syncing = this.handle
          .datasync()
          .catch((error: Error) => {
            this.syncError = error;
          })
          .finally(() => {
            this.syncing = null;
          });
      }
      callback();
    }, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      await this.syncing;
      if (this.syncError) throw this.syncError;
      await this.handle.datasync();
    })().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const pending = this.syncing ?? Promise.resolve();
    pending
      .then(() => this.handle.close())
      .then(
        () => callback(error),
        (closeError: Error) => callback(error ?? closeError),
      );
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    let pending = buffers;
    while (pending.length > 0) {
      const { bytesWritten } = await this.handle.writev(pending);
      pending = skipBytes(pending, bytesWritten);
    }
  }
}

function skipBytes(buffers: Buffer[], count: number): Buffer[] {
  let left = count;
  const rest: Buffer[] = [];
  for (const buffer of buffers) {
    if (left >= buffer.length) {
      left -= buffer.length;
      continue;
    }
    rest.push(left > 0 ? buffer.subarray(left) : buffer);
    left = 0;
  }
  return rest;
}
