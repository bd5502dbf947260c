/**
 * Small entries, the bulk of a package by count, written synchronously: the zip is read in
 * large sequential windows (entries lie in order), each entry is inflated in one piece and
 * checked before its file is created, and the file is written with one open, write and close.
 * Per-file promises and threadpool round trips cost more than the work itself for such files,
 * so the caller runs these synchronous calls in slices (zip-slices.ts). Used by zip-extract.ts.
 */
import { closeSync, fchmodSync, openSync, readSync, writeSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { DEFLATED, LOCAL_HEADER_SIZE, localDataStart } from './zip-directory.js';
import { EntryCheck, corruptCrc, errnoCode, notInflatable, sizeMismatch } from './zip-extract-stream.js';
import type { PlannedEntry, UnpackedTotal } from './zip-extract-stream.js';

/** Entries up to this size, packed and unpacked, are written in one piece; larger ones are streamed. */
export const SMALL_ENTRY_SIZE = 1024 * 1024;
/** Bytes of the zip read at once for consecutive small entries. */
const WINDOW_SIZE = 2 * 1024 * 1024;
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

/**
 * Writes one small entry: its bytes taken from the window, inflated, checked (size, CRC-32,
 * running total) and only then written to a new file created with `wx` and the entry's mode
 * (chmod-ed again only when `fixMode`: the umask took bits). Throws like EntryCheck, or the
 * file system's error.
 */
export function writeSmallEntry(window: ZipWindow, path: string, { info, record }: PlannedEntry, total: UnpackedTotal, fixMode: boolean): void {
  let data: Buffer;
  if (info.size === 0) {
    // nothing to read or inflate: an empty file's CRC is 0
    if (record.crc32 >>> 0 !== 0) throw corruptCrc(info.path, record.crc32, 0);
    data = Buffer.alloc(0);
  } else {
    const offset = record.localHeaderOffset;
    const compressed = window.bytes(localDataStart(window.bytes(offset, LOCAL_HEADER_SIZE), offset, info.path), info.compressedSize);
    data = record.method === DEFLATED ? inflate(compressed, info.path, info.size) : compressed;
    const check = new EntryCheck({ path: info.path, size: info.size, crc32: record.crc32 }, total);
    check.add(data);
    check.end();
  }
  const fd = openSync(path, 'wx', info.mode);
  try {
    for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
    if (fixMode) fchmodSync(fd, info.mode);
  } finally {
    closeSync(fd);
  }
}

function inflate(compressed: Buffer, path: string, size: number): Buffer {
  try {
    // one output buffer, one byte larger than needed: no 16 KiB default chunks to concatenate, and a longer output still fails
    return inflateRawSync(compressed, { maxOutputLength: size, chunkSize: Math.max(MIN_CHUNK, size + 1) });
  } catch (error) {
    if (errnoCode(error) === 'ERR_BUFFER_TOO_LARGE') throw sizeMismatch(path, size);
    throw notInflatable(path, error);
  }
}
