import { open, type FileHandle } from 'node:fs/promises';
import { PROTOCOL_LIMITS, encodeChunkHeader } from '@cuttle/shared';
import type { WebSocketSession } from './tentacle-session.js';

export interface PackageSenderEvents {
  /** Another chunk was written out; `position` is where the next chunk starts. */
  onWritten(bytes: number, position: number): void;
  /** Every byte up to the package's size was written out. */
  onDone(): void;
  /** The hub cannot send the package (its file is missing, short or unreadable); says why. */
  onFailed(reason: string): void;
}

/** The sender resumes queueing once the socket has written out this much of its backlog. */
const RESUME_BELOW_BYTES = PROTOCOL_LIMITS.sendHighWaterBytes / 2;

/**
 * Streams one package from an offset to a tentacle, each piece as its own binary message (chunk
 * header + data). Each piece is read straight into the buffer that is sent, after room for the
 * header, so no byte of the package is copied on the hub, and a buffer is used again once the
 * socket has taken its message. Queueing stops while the socket holds
 * more than sendHighWaterBytes, so memory stays bounded by that and one chunk, whatever the size.
 */
export class PackageSender {
  private stopped = false;
  private written: number;

  constructor(
    private readonly session: WebSocketSession,
    private readonly jobId: string,
    private readonly file: string,
    private readonly offset: number,
    private readonly size: number,
    private readonly events: PackageSenderEvents,
  ) {
    this.written = offset;
  }

  /** Where the bytes written out so far end. */
  get position(): number {
    return this.written;
  }

  start(): void {
    void this.send().catch((error: unknown) => this.fail(`reading the package file failed: ${(error as Error).message}`));
  }

  /** Sends nothing more (job cancelled or finished, connection lost, a newer request). */
  stop(): void {
    this.stopped = true;
  }

  private async send(): Promise<void> {
    if (this.offset >= this.size) return this.finishIfWritten();
    let handle: FileHandle;
    try {
      handle = await open(this.file, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return this.fail(code === 'ENOENT' ? 'the package file is missing from the hub\'s package store' : `the package file cannot be opened (${code ?? (error as Error).message})`);
    }
    try {
      const { size: onDisk } = await handle.stat();
      if (onDisk < this.size) return this.fail(`the package file on the hub has ${onDisk} bytes, fewer than the ${this.size} recorded for it`);
      const headerLength = encodeChunkHeader(this.jobId, 0).length;
      // buffers whose message the socket has taken, to be filled again: no allocation (and so no
      // garbage to collect) per chunk, whatever the package's size
      const spare: Buffer[] = [];
      let offset = this.offset;
      while (!this.stopped && offset < this.size) {
        const length = Math.min(PROTOCOL_LIMITS.packageChunkBytes, this.size - offset);
        const buffer = spare.pop() ?? Buffer.allocUnsafe(headerLength + PROTOCOL_LIMITS.packageChunkBytes);
        const message = buffer.subarray(0, headerLength + length);
        encodeChunkHeader(this.jobId, offset).copy(message, 0);
        await readFully(handle, message, headerLength, length, offset);
        while (!this.stopped && this.session.bufferedAmount > PROTOCOL_LIMITS.sendHighWaterBytes) await this.session.waitForDrain(RESUME_BELOW_BYTES);
        if (this.stopped) return;
        const end = offset + length;
        // false: the connection is closing, and its close event tells the job
        const queued = this.session.sendBinary(message, (error) => {
          if (error || this.stopped) return;
          spare.push(buffer);
          this.written = end;
          this.events.onWritten(length, end);
          this.finishIfWritten();
        });
        if (!queued) return;
        offset = end;
      }
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  private finishIfWritten(): void {
    if (!this.stopped && this.written >= this.size) {
      this.stopped = true;
      this.events.onDone();
    }
  }

  private fail(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.events.onFailed(reason);
  }
}

async function readFully(handle: FileHandle, into: Buffer, at: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(into, at + done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`the file ended at ${position + done} bytes, before its recorded size`);
    done += bytesRead;
  }
}
