/**
 * The synchronous side of extraction, where nearly all of it happens: the zip is read in large
 * sequential windows (entries lie in order), each entry is inflated by one reused engine
 * (zip-inflater.ts) into one reused buffer, checked, and written with plain synchronous calls.
 * A small entry is checked whole before its file is created and is written with one open,
 * write and close; a large one goes a piece at a time, giving the event loop a turn between
 * slices. Per-file promises and threadpool round trips cost more than the work itself for
 * such files, so the caller runs these calls in slices (zip-slices.ts). Used by zip-extract.ts.
 *
 * Where node:zlib's internals are not usable (openRawInflater returns undefined), small
 * entries fall back to inflateRawSync and large ones to the streamed path (zip-extract-stream.ts).
 */
import { closeSync, fchmodSync, openSync, readSync, writeSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { DEFLATED, LOCAL_HEADER_SIZE, invalidZip, localDataStart } from './zip-directory.js';
import { EntryCheck, corruptCrc, errnoCode, notInflatable, sizeMismatch } from './zip-extract-stream.js';
import type { PlannedEntry, UnpackedTotal } from './zip-extract-stream.js';
import { InflateFailure } from './zip-inflater.js';
import type { RawInflater } from './zip-inflater.js';
import { SliceClock } from './zip-slices.js';

/** Entries up to this size, packed and unpacked, are written in one piece; larger ones piece by piece. */
export const SMALL_ENTRY_SIZE = 1024 * 1024;
/** Bytes of the zip read at once for consecutive entries. */
const WINDOW_SIZE = 2 * 1024 * 1024;
/** Packed bytes of a large entry taken at a time. */
const PIECE_SIZE = 1024 * 1024;
/** zlib's smallest output chunk. */
const MIN_CHUNK = 64;

export const isSmallEntry = ({ info }: PlannedEntry): boolean => info.size <= SMALL_ENTRY_SIZE && info.compressedSize <= SMALL_ENTRY_SIZE;

/** A window on the zip file: bytes are served from one large read while they fall inside it. */
export class ZipWindow {
  private buffer = Buffer.allocUnsafe(WINDOW_SIZE);
  private start = 0;
  private length = 0;

  constructor(private readonly fd: number) {}

  /** `length` bytes of the zip at `position` (fewer at the end of the file), valid until the next call. */
  bytes(position: number, length: number): Buffer {
    if (position < this.start || position + length > this.start + this.length) this.fill(position, length);
    const from = position - this.start;
    return this.buffer.subarray(from, Math.min(from + length, this.length));
  }

  private fill(position: number, length: number): void {
    const size = Math.max(WINDOW_SIZE, length);
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const read = readSync(this.fd, this.buffer, filled, size - filled, position + filled);
      if (read === 0) break;
      filled += read;
    }
    this.start = position;
    this.length = filled;
  }
}

/** What the entries of one extraction share: the window on the zip, and the engine and buffer for inflating. */
export class EntryWriter {
  readonly window: ZipWindow;
  /** one byte more than a small entry: an entry that inflates to more than it declared fills it */
  private readonly out = Buffer.allocUnsafe(SMALL_ENTRY_SIZE + 1);

  constructor(
    zipFd: number,
    /** undefined: node:zlib's internals are not usable, inflateRawSync and streams are used instead */
    readonly inflater: RawInflater | undefined,
  ) {
    this.window = new ZipWindow(zipFd);
  }

  /**
   * Writes one small entry: its bytes taken from the window, inflated, checked (size, CRC-32,
   * running total) and only then written to a new file created with `wx` and the entry's mode
   * (chmod-ed again only when `fixMode`: the umask took bits). Throws like EntryCheck, or the
   * file system's error.
   */
  writeSmall(path: string, { info, record }: PlannedEntry, total: UnpackedTotal, fixMode: boolean): void {
    let data: Buffer;
    if (info.size === 0) {
      // nothing to read or inflate: an empty file's CRC is 0
      if (record.crc32 >>> 0 !== 0) throw corruptCrc(info.path, record.crc32, 0);
      data = Buffer.alloc(0);
    } else {
      const compressed = this.window.bytes(this.dataStart({ info, record }), info.compressedSize);
      const check = new EntryCheck({ path: info.path, size: info.size, crc32: record.crc32 }, total);
      if (record.method === DEFLATED && this.inflater !== undefined) {
        data = this.inflateSmall(this.inflater, compressed, info.path, info.size, check); // checked on the way
      } else {
        data = record.method === DEFLATED ? inflateWhole(compressed, info.path, info.size) : compressed;
        check.add(data);
      }
      check.end();
    }
    const fd = openSync(path, 'wx', info.mode);
    try {
      writeAll(fd, data);
      if (fixMode) fchmodSync(fd, info.mode);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Writes one large entry piece by piece into a new file (`wx`, with the entry's mode): packed
   * bytes from the window, inflated into the reused buffer, checked (a byte too many fails
   * before it is written), written; the event loop gets a turn between slices and the signal
   * is checked there. Needs the inflater (the streamed path serves large entries without it).
   */
  async writeLarge(path: string, { info, record }: PlannedEntry, total: UnpackedTotal, signal: AbortSignal | undefined, fixMode: boolean): Promise<void> {
    const inflater = this.inflater;
    if (inflater === undefined) throw new Error('writeLarge needs the inflater');
    let position = this.dataStart({ info, record });
    let remaining = info.compressedSize;
    const check = new EntryCheck({ path: info.path, size: info.size, crc32: record.crc32 }, total);
    const deflated = record.method === DEFLATED;
    if (deflated) inflater.start();
    const fd = openSync(path, 'wx', info.mode);
    try {
      const write = (chunk: Buffer): void => {
        check.add(chunk);
        writeAll(fd, chunk);
      };
      const clock = new SliceClock();
      const turn = async (): Promise<void> => {
        if (!clock.due) return;
        await clock.nextSlice();
        signal?.throwIfAborted();
      };
      while (remaining > 0) {
        const piece = this.window.bytes(position, Math.min(PIECE_SIZE, remaining));
        if (piece.length === 0) throw endsInside(info.path);
        position += piece.length;
        remaining -= piece.length;
        if (!deflated) {
          write(piece);
          await turn();
          continue;
        }
        // a buffer of output at a time, the clock checked between: one piece may inflate to a thousand times its size
        for (let taken = 0; ; ) {
          let step: { read: number; written: number };
          try {
            step = inflater.inflateSome(taken === 0 ? piece : piece.subarray(taken), remaining === 0, this.out);
          } catch (error) {
            throw error instanceof InflateFailure ? notInflatable(info.path, error) : error;
          }
          taken += step.read;
          if (step.written > 0) write(this.out.subarray(0, step.written));
          if (step.written < this.out.length) break;
          await turn();
        }
        await turn();
      }
      check.end();
      if (fixMode) fchmodSync(fd, info.mode);
    } finally {
      // closed before a failed extraction removes the folder
      closeSync(fd);
    }
  }

  close(): void {
    this.inflater?.close();
  }

  private dataStart({ info, record }: PlannedEntry): number {
    const offset = record.localHeaderOffset;
    return localDataStart(this.window.bytes(offset, LOCAL_HEADER_SIZE), offset, info.path);
  }

  /** Inflates a whole small entry into the reused buffer; the check sees its bytes on the way. */
  private inflateSmall(inflater: RawInflater, compressed: Buffer, path: string, size: number, check: EntryCheck): Buffer {
    let data: Buffer | undefined;
    inflater.start();
    try {
      // one byte of room more than declared: more output reaches the check, which refuses it
      inflater.inflate(compressed, true, this.out.subarray(0, size + 1), (chunk) => {
        check.add(chunk);
        data = chunk;
      });
    } catch (error) {
      throw error instanceof InflateFailure ? notInflatable(path, error) : error;
    }
    return data ?? Buffer.alloc(0);
  }
}

/** The zip file ends before an entry's data does (its local header placed the data too far). */
function endsInside(path: string): Error {
  return invalidZip(`The zip is damaged: it ends inside the data of ${JSON.stringify(path)}.`, { entry: path, reason: 'truncated' });
}

function writeAll(fd: number, data: Buffer): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
}

/** inflateRawSync into one new buffer, for when the reusable engine is not available. */
function inflateWhole(compressed: Buffer, path: string, size: number): Buffer {
  try {
    // one output buffer, one byte larger than needed: no 16 KiB default chunks to concatenate, and a longer output still fails
    return inflateRawSync(compressed, { maxOutputLength: size, chunkSize: Math.max(MIN_CHUNK, size + 1) });
  } catch (error) {
    if (errnoCode(error) === 'ERR_BUFFER_TOO_LARGE') throw sizeMismatch(path, size);
    throw notInflatable(path, error);
  }
}
