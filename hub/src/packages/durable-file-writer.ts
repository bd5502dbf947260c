import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';

/** Flush to disk every this many bytes while writing, so the final flush is short. */
export const SYNC_EVERY_BYTES = 64 * 1024 * 1024;
/** Bytes buffered before the write stream pushes back; large enough to batch writes into writev. */
const WRITE_BUFFER_BYTES = 1024 * 1024;

/**
 * A new file (`wx`) written through a write stream and made durable: `poke()` (called as data
 * flows) flushes to disk in the background every SYNC_EVERY_BYTES, so disk and network overlap;
 * `finish()` waits for that, flushes the rest and closes. We own the descriptor, so no flush ever
 * races the stream closing it.
 */
export class DurableFile {
  private flushedBytes = 0;
  private flushing: Promise<void> | null = null;
  private flushError: Error | null = null;

  private constructor(
    private readonly handle: fsp.FileHandle,
    readonly stream: WriteStream,
    private readonly syncEveryBytes: number,
  ) {}

  static async create(file: string, syncEveryBytes = SYNC_EVERY_BYTES): Promise<DurableFile> {
    const handle = await fsp.open(file, 'wx');
    const stream = createWriteStream('', { fd: handle.fd, autoClose: false, highWaterMark: WRITE_BUFFER_BYTES });
    return new DurableFile(handle, stream, syncEveryBytes);
  }

  poke(): void {
    if (this.flushing || this.stream.bytesWritten - this.flushedBytes < this.syncEveryBytes) return;
    const upTo = this.stream.bytesWritten;
    this.flushing = this.handle
      .datasync()
      .then(
        () => {
          this.flushedBytes = upTo;
        },
        (error: Error) => {
          this.flushError = error;
        },
      )
      .finally(() => {
        this.flushing = null;
      });
  }

  /** After the stream finished: flush what is left and close. Throws if any flush failed. */
  async finish(): Promise<void> {
    try {
      await this.flushing;
      if (this.flushError) throw this.flushError;
      await this.handle.datasync();
    } finally {
      await this.handle.close();
    }
  }

  /** After a failure: stop writing and close; the caller removes the file. */
  async abandon(): Promise<void> {
    this.stream.destroy();
    await this.flushing;
    await this.handle.close().catch(() => undefined);
  }
}
