/**
 * The byte side of extraction: the checks every entry's real bytes pass (size, CRC-32, the
 * running total), and large entries streamed from the zip file (at the offset and length the
 * central directory gives), inflated, checked and written a chunk at a time, with
 * backpressure: the path for large entries where the reused inflate engine of
 * zip-extract-batch.ts is not available. Used by zip-extract.ts; not exported from the package index.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { createInflateRaw, crc32 } from 'node:zlib';
import { CuttleError, isCuttleError } from './errors.js';
import type { ZipEntryInfo } from './zip-check.js';
import { DEFLATED, readLocalDataStart } from './zip-directory.js';
import type { CentralRecord } from './zip-directory.js';

/** Read size for streamed entries and hashing; memory per entry stays at a few times this, whatever its size. */
export const EXTRACT_CHUNK_SIZE = 1024 * 1024;
/** zlib's output chunks for streamed entries: small enough to come from the heap, not fresh pages. */
const INFLATE_CHUNK_SIZE = 64 * 1024;

/** One entry to extract: its checked info and the central directory record it comes from. */
export interface PlannedEntry {
  info: ZipEntryInfo;
  record: CentralRecord;
}

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

/** The zip is damaged: an entry's deflate data cannot be inflated. */
export function notInflatable(path: string, error: unknown): CuttleError {
  const cause = error instanceof Error ? error.message : String(error);
  return new CuttleError('invalid-zip', `The zip is damaged: the data of ${JSON.stringify(path)} cannot be inflated (${cause}).`, { entry: path, cause });
}

/**
 * Reads `length` bytes of `zip` from `start` into `buffer`, a buffer-full at a time, and yields
 * the part filled: each chunk is only valid until the consumer asks for the next one (the
 * same memory is used again). A read past the end of the file just ends early (the check
 * reports the shortfall). It never closes `zip`, and FileHandle.close waits for a read still
 * in flight, so an entry cut short leaves no file descriptor behind.
 */
async function* readChunks(zip: FileHandle, start: number, length: number, buffer: Buffer): AsyncGenerator<Buffer> {
  let position = start;
  let remaining = length;
  while (remaining > 0) {
    const { bytesRead } = await zip.read(buffer, 0, Math.min(buffer.length, remaining), position);
    if (bytesRead === 0) return;
    position += bytesRead;
    remaining -= bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

async function writeAll(out: FileHandle, chunk: Buffer): Promise<void> {
  for (let done = 0; done < chunk.length; ) done += (await out.write(chunk, done, chunk.length - done)).bytesWritten;
}

/**
 * Streams a large entry into a new file (`wx`, with the entry's mode, chmod-ed again only when
 * `fixMode`: the umask took bits): zip bytes, inflated, checked (a byte too many fails before
 * it is written), written. One read buffer is used over and over, so memory stays at a few
 * chunks whatever the entry's size; the signal is checked at every chunk.
 */
export async function streamEntry(zip: FileHandle, path: string, { info, record }: PlannedEntry, total: UnpackedTotal, signal: AbortSignal | undefined, fixMode: boolean): Promise<void> {
  const start = await readLocalDataStart(zip, record.localHeaderOffset, info.path);
  const check = new EntryCheck({ path: info.path, size: info.size, crc32: record.crc32 }, total);
  const buffer = Buffer.allocUnsafe(Math.min(EXTRACT_CHUNK_SIZE, Math.max(1, info.compressedSize)));
  const out = await open(path, 'wx', info.mode);
  try {
    const write = async (chunk: Buffer): Promise<void> => {
      signal?.throwIfAborted();
      check.add(chunk);
      await writeAll(out, chunk);
    };
    const data = readChunks(zip, start, info.compressedSize, buffer);
    if (record.method === DEFLATED) await inflateInto(data, info.path, write);
    else for await (const chunk of data) await write(chunk);
    check.end();
    if (fixMode) await out.chmod(info.mode);
  } finally {
    // closed before a failed extraction removes the folder
    await out.close();
  }
}

/**
 * Inflates `data` chunk by chunk into `write`, with backpressure both ways: a chunk of `data`
 * is handed to zlib only once zlib is done with the previous one (their memory is reused),
 * and zlib's output waits for `write`. Settles only when both sides have stopped.
 */
async function inflateInto(data: AsyncIterable<Buffer>, path: string, write: (chunk: Buffer) => Promise<void>): Promise<void> {
  const inflater = createInflateRaw({ chunkSize: INFLATE_CHUNK_SIZE });
  let inflateError: unknown;
  inflater.once('error', (error: unknown) => (inflateError = error));
  // resolves once zlib is done with the chunk; zlib drops the callback of the write it fails on, hence the close
  const handOver = (chunk: Buffer): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const closed = (): void => reject(inflateError ?? new Error('the inflater closed'));
      inflater.once('close', closed);
      inflater.write(chunk, (error) => {
        inflater.off('close', closed);
        if (error) reject(error);
        else resolve();
      });
    });
  const feed = async (): Promise<void> => {
    try {
      for await (const chunk of data) await handOver(chunk);
      inflater.end();
    } catch (error) {
      inflater.destroy(error as Error);
      throw error;
    }
  };
  const drain = async (): Promise<void> => {
    // leaving the loop early (write failed) destroys the inflater, which stops feed too
    for await (const chunk of inflater as AsyncIterable<Buffer>) await write(chunk);
  };
  const [fed, drained] = await Promise.allSettled([feed(), drain()]);
  if (inflateError !== undefined && !isCuttleError(inflateError) && errnoCode(inflateError)?.startsWith('Z_')) throw notInflatable(path, inflateError);
  if (drained.status === 'rejected') throw drained.reason;
  if (fed.status === 'rejected') throw fed.reason;
}

/** Streams the zip file through SHA-256 and refuses a mismatch with `package-corrupt`. */
export async function verifySha256(zip: FileHandle, expected: string, signal: AbortSignal | undefined): Promise<void> {
  const hash = createHash('sha256');
  for await (const chunk of readChunks(zip, 0, (await zip.stat()).size, Buffer.allocUnsafe(EXTRACT_CHUNK_SIZE))) {
    signal?.throwIfAborted();
    hash.update(chunk);
  }
  const actual = hash.digest('hex');
  if (actual !== expected.toLowerCase()) {
    throw new CuttleError('package-corrupt', 'The package is corrupt: its SHA-256 does not match the expected one.', { expectedSha256: expected, actualSha256: actual });
  }
}

export function errnoCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
