/**
 * The byte side of extraction: one entry's data read straight from the zip file (at the
 * offset and length the central directory gives), inflated, counted and CRC-checked on its
 * way to disk. Used by zip-extract.ts; not exported from the package index.
 */
import type { FileHandle } from 'node:fs/promises';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { CuttleError } from './errors.js';

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_SIZE = 30;
/** Read size for entry data; memory per entry stays at about this much, whatever the entry's size. */
export const EXTRACT_CHUNK_SIZE = 256 * 1024;

/** Real decompressed bytes of all entries so far, shared by the counters of one extraction. */
export interface UnpackedTotal {
  bytes: number;
  readonly max: number;
}

export interface CountedEntry {
  /** normalized entry path, for messages */
  path: string;
  /** declared uncompressed size (central directory) */
  size: number;
  /** declared CRC-32 (central directory) */
  crc32: number;
}

/**
 * Checks an entry's decompressed bytes, as they come, against what the central directory
 * declared: exactly `size` bytes (a byte too many fails at once, before it is written; too
 * few fails at the end) and the CRC-32, plus the running total against the unpacked-size
 * limit, all on the real bytes. Throws CuttleError `invalid-zip`, `zip-limits-exceeded` or
 * `package-corrupt`.
 */
export class EntryCheck {
  bytes = 0;
  private crc = 0;

  constructor(
    private readonly entry: CountedEntry,
    private readonly total: UnpackedTotal,
  ) {}

  add(chunk: Buffer): void {
    const { path, size } = this.entry;
    this.bytes += chunk.length;
    if (this.bytes > size) throw sizeMismatch(path, size);
    this.total.bytes += chunk.length;
    if (this.total.bytes > this.total.max) {
      throw new CuttleError('zip-limits-exceeded', `The zip unpacks to more than ${this.total.max} bytes (reached at ${JSON.stringify(path)}).`, {
        entry: path,
        limit: 'maxUnpackedSize',
        value: this.total.bytes,
        max: this.total.max,
      });
    }
    this.crc = crc32(chunk, this.crc);
  }

  end(): void {
    const { path, size } = this.entry;
    if (this.bytes !== size) throw sizeMismatch(path, size, this.bytes);
    if (this.crc >>> 0 !== this.entry.crc32 >>> 0) throw corruptCrc(path, this.entry.crc32, this.crc);
  }
}

/** EntryCheck as a pass-through stream stage. */
export class EntryCounter extends Transform {
  readonly check: EntryCheck;

  constructor(entry: CountedEntry, total: UnpackedTotal) {
    super();
    this.check = new EntryCheck(entry, total);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.check.add(chunk);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.check.end();
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }
}

export function sizeMismatch(path: string, declared: number, actual?: number): CuttleError {
  const what = actual === undefined ? `more than the ${declared} bytes` : `${actual} bytes, not the ${declared}`;
  return new CuttleError('invalid-zip', `The zip is damaged: ${JSON.stringify(path)} unpacks to ${what} its directory record declares.`, {
    entry: path,
    declared,
    ...(actual === undefined ? {} : { actual }),
    reason: 'size-mismatch',
  });
}

export function corruptCrc(path: string, expected: number, actual: number): CuttleError {
  const hex = (value: number): string => (value >>> 0).toString(16).padStart(8, '0');
  return new CuttleError('package-corrupt', `The package is corrupt: the data of ${JSON.stringify(path)} does not match its CRC-32.`, {
    entry: path,
    expectedCrc32: hex(expected),
    actualCrc32: hex(actual),
  });
}

/**
 * Reads `length` bytes of `zip` from `start`, a chunk at a time. A read past the end of the
 * file just ends early (the counter reports the shortfall). It never closes `zip` (a stream
 * made with FileHandle.createReadStream closes its handle when destroyed), and FileHandle.close
 * waits for a read still in flight, so an entry cut short leaves no file descriptor behind.
 */
export async function* readRange(zip: FileHandle, start: number, length: number): AsyncGenerator<Buffer> {
  let position = start;
  let remaining = length;
  while (remaining > 0) {
    const buffer = Buffer.allocUnsafe(Math.min(EXTRACT_CHUNK_SIZE, remaining));
    const { bytesRead } = await zip.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    remaining -= bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/**
 * Where one entry's compressed bytes start. Only the local header's fixed part is read (for
 * the name and extra-field lengths, which place the data); the offset and the compressed
 * length come from the central directory.
 */
export async function entryDataStart(zip: FileHandle, path: string, offset: number): Promise<number> {
  const header = Buffer.alloc(LOCAL_HEADER_SIZE);
  const { bytesRead } = await zip.read(header, 0, LOCAL_HEADER_SIZE, offset);
  if (bytesRead !== LOCAL_HEADER_SIZE || header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) {
    throw new CuttleError('invalid-zip', `The zip is damaged: the local header of ${JSON.stringify(path)} is missing.`, { entry: path, offset });
  }
  return offset + LOCAL_HEADER_SIZE + header.readUInt16LE(26) + header.readUInt16LE(28);
}
