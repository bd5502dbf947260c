/**
 * Reading a zip's structure: the end record, the central directory records and the local
 * headers' fixed part. Plain Buffer reads of a well-specified format (APPNOTE 6.3), so the
 * central directory is read once, in one piece, and every field is bounds-checked here.
 * Names and kinds are judged in zip-check.ts; this file only knows the format.
 */
import { isUtf8 } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { CuttleError } from './errors.js';
import type { ZipLimits } from './zip-check.js';
import { SliceClock } from './zip-slices.js';

/** One central directory record, as the zip states it (sizes and offset already widened from zip64). */
export interface CentralRecord {
  /** position in the central directory, from 0 */
  index: number;
  /** the name as UTF-8; invalid bytes show as U+FFFD (then nameIsUtf8 is false) */
  name: string;
  nameIsUtf8: boolean;
  versionMadeBy: number;
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  externalAttributes: number;
}

export interface EndOfCentralDirectory {
  /** offset of the (non-zip64) end record */
  endOffset: number;
  directoryOffset: number;
  directorySize: number;
  /** records the end record announces */
  count: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** Other readers (unzipper, for one) take the first end-record signature in the last 80 bytes. */
const SHORT_TAIL = 80;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_EOCD_SIZE = 56;
const ZIP64_EXTRA_ID = 0x0001;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
export const LOCAL_HEADER_SIZE = 30;
const U32_MAX = 0xffffffff;
/** Most bytes of central directory read into memory, whatever the entry limit. */
const MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 ** 2;
/** Budget of central directory bytes per allowed entry. */
const CENTRAL_DIRECTORY_BYTES_PER_ENTRY = 1024;

/** Compression methods an entry may use. */
export const STORED = 0;
export const DEFLATED = 8;

export function invalidZip(message: string, details?: Record<string, unknown>): CuttleError {
  return new CuttleError('invalid-zip', message, details);
}

/** Most central directory bytes a zip may have under these limits: min(64 MiB, maxEntries * 1 KiB). */
export function centralDirectoryBudget(limits: ZipLimits): number {
  return Math.min(MAX_CENTRAL_DIRECTORY_BYTES, Math.max(0, limits.maxEntries) * CENTRAL_DIRECTORY_BYTES_PER_ENTRY);
}

/** Reads exactly `buffer.length` bytes at `position`, or fewer only at the end of the file. */
export async function readAt(handle: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** Reads a little-endian 64-bit size; beyond 2^53 it is not a safe integer, which callers refuse. */
function readU64(buffer: Buffer, at: number): number {
  return buffer.readUInt32LE(at) + buffer.readUInt32LE(at + 4) * 2 ** 32;
}

/**
 * Finds and checks the end of central directory record: it must end the file exactly, be the
 * only one a reader could pick (none other in the tail, none in the last 80 bytes that some
 * readers search), be on one disk, and announce a central directory within the limits that
 * fits between the data and itself.
 */
export async function readEnd(handle: FileHandle, fileSize: number, limits: ZipLimits): Promise<EndOfCentralDirectory> {
  if (fileSize < EOCD_SIZE) throw invalidZip(`The file (${fileSize} bytes) is too short to be a zip.`, { size: fileSize });
  const tailSize = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tail = Buffer.alloc(tailSize);
  await readAt(handle, tail, fileSize - tailSize);
  const candidates: number[] = [];
  for (let i = tailSize - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tailSize) candidates.push(i);
  }
  const at = candidates[0];
  if (at === undefined) throw invalidZip('The file is not a zip: it has no end of central directory record (empty, truncated or another format).');
  const window = tail.subarray(Math.max(0, tailSize - SHORT_TAIL), at);
  if (candidates.length > 1 || window.includes(tail.subarray(at, at + 4))) {
    throw invalidZip('The zip is ambiguous: it has more than one end of central directory signature.');
  }
  const endOffset = fileSize - tailSize + at;
  const end = tail.subarray(at, at + EOCD_SIZE);
  if (end.readUInt16LE(4) !== 0 && end.readUInt16LE(4) !== 0xffff) throw invalidZip('The zip spans several disks, which is not supported.');
  let count = end.readUInt16LE(10);
  let directorySize = end.readUInt32LE(12);
  let directoryOffset = end.readUInt32LE(16);
  let directoryEnd = endOffset;
  // the zip64 test Go and unzipper use, so that all read the same numbers
  if (end.readUInt16LE(4) === 0xffff || count === 0xffff || directoryOffset === U32_MAX) {
    const locator = Buffer.alloc(ZIP64_LOCATOR_SIZE);
    const locatorOffset = endOffset - ZIP64_LOCATOR_SIZE;
    if (locatorOffset < 0) throw invalidZip('The zip64 end of central directory locator is missing.');
    await readAt(handle, locator, locatorOffset);
    const recordOffset = readU64(locator, 8);
    if (locator.readUInt32LE(0) !== ZIP64_LOCATOR_SIGNATURE || !Number.isSafeInteger(recordOffset) || recordOffset + ZIP64_EOCD_SIZE > locatorOffset) {
      throw invalidZip('The zip64 end of central directory locator is missing or damaged.');
    }
    const record = Buffer.alloc(ZIP64_EOCD_SIZE);
    await readAt(handle, record, recordOffset);
    if (record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) throw invalidZip('The zip64 end of central directory record is damaged.');
    count = readU64(record, 32);
    directorySize = readU64(record, 40);
    directoryOffset = readU64(record, 48);
    directoryEnd = recordOffset;
  }
  if (count > limits.maxEntries) {
    throw new CuttleError('zip-limits-exceeded', `The zip has ${count} entries; at most ${limits.maxEntries} are allowed.`, {
      limit: 'maxEntries',
      value: count,
      max: limits.maxEntries,
    });
  }
  const maxDirectorySize = centralDirectoryBudget(limits);
  if (directorySize > maxDirectorySize) {
    throw new CuttleError('zip-limits-exceeded', `The zip's central directory is ${directorySize} bytes; at most ${maxDirectorySize} are allowed.`, {
      limit: 'centralDirectorySize',
      value: directorySize,
      max: maxDirectorySize,
    });
  }
  if (!Number.isSafeInteger(directoryOffset) || directoryOffset + directorySize > directoryEnd || count * CENTRAL_HEADER_SIZE > directorySize) {
    throw invalidZip('The zip is truncated or damaged: its central directory does not fit in the file.', {
      entries: count,
      directoryOffset,
      directorySize,
      fileSize,
    });
  }
  return { endOffset, directoryOffset, directorySize, count };
}

/**
 * Reads the central directory (after readEnd bounded its size) in one read and parses its
 * `count` records, in slices. Every record must lie inside the announced directory size; sizes and the
 * offset marked 0xffffffff are taken from the record's zip64 extra field, which must then hold them.
 */
export async function readCentralDirectory(handle: FileHandle, end: EndOfCentralDirectory): Promise<CentralRecord[]> {
  const { count, directorySize } = end;
  const directory = Buffer.allocUnsafe(directorySize);
  if ((await readAt(handle, directory, end.directoryOffset)) !== directorySize) {
    throw invalidZip('The zip is truncated: its central directory cannot be read.', { directorySize });
  }
  const records: CentralRecord[] = new Array<CentralRecord>(count);
  const clock = new SliceClock();
  let at = 0;
  for (let index = 0; index < count; index++) {
    if (index % 64 === 63 && clock.due) await clock.nextSlice();
    if (at + CENTRAL_HEADER_SIZE > directorySize) {
      throw invalidZip(`The zip is damaged: central directory record ${index + 1} lies beyond the central directory's announced size.`, {
        index,
        entries: count,
        directorySize,
      });
    }
    if (directory.readUInt32LE(at) !== CENTRAL_HEADER_SIGNATURE) {
      throw invalidZip(`The zip is damaged: central directory record ${index + 1} is unreadable.`, { index });
    }
    const nameStart = at + CENTRAL_HEADER_SIZE;
    const extraStart = nameStart + directory.readUInt16LE(at + 28);
    const extraEnd = extraStart + directory.readUInt16LE(at + 30);
    const recordEnd = extraEnd + directory.readUInt16LE(at + 32);
    if (recordEnd > directorySize) {
      throw invalidZip("The zip is damaged: its central directory records run past the central directory's announced size.", {
        entries: count,
        directorySize,
        recordsSize: recordEnd,
      });
    }
    const nameBytes = directory.subarray(nameStart, extraStart);
    const record: CentralRecord = {
      index,
      name: nameBytes.toString('utf8'),
      nameIsUtf8: isUtf8(nameBytes),
      versionMadeBy: directory.readUInt16LE(at + 4),
      flags: directory.readUInt16LE(at + 8),
      method: directory.readUInt16LE(at + 10),
      crc32: directory.readUInt32LE(at + 16),
      compressedSize: directory.readUInt32LE(at + 20),
      size: directory.readUInt32LE(at + 24),
      externalAttributes: directory.readUInt32LE(at + 38),
      localHeaderOffset: directory.readUInt32LE(at + 42),
    };
    if (record.size === U32_MAX || record.compressedSize === U32_MAX || record.localHeaderOffset === U32_MAX) {
      applyZip64Extra(record, directory.subarray(extraStart, extraEnd));
    }
    records[index] = record;
    at = recordEnd;
  }
  return records;
}

/**
 * Replaces the 0xffffffff fields of a record with the 64-bit values of its zip64 extra field
 * (present ones only, in the order the format fixes). A value that is missing stays NaN,
 * which the entry checks refuse as an unreadable record.
 */
function applyZip64Extra(record: CentralRecord, extra: Buffer): void {
  const wanted: Array<'size' | 'compressedSize' | 'localHeaderOffset'> = [];
  if (record.size === U32_MAX) wanted.push('size');
  if (record.compressedSize === U32_MAX) wanted.push('compressedSize');
  if (record.localHeaderOffset === U32_MAX) wanted.push('localHeaderOffset');
  for (const field of wanted) record[field] = Number.NaN;
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const body = at + 4;
    const bodyEnd = body + extra.readUInt16LE(at + 2);
    if (bodyEnd > extra.length) return;
    if (id === ZIP64_EXTRA_ID) {
      wanted.forEach((field, n) => {
        if (body + 8 * (n + 1) <= bodyEnd) record[field] = readU64(extra, body + 8 * n);
      });
      return;
    }
    at = bodyEnd;
  }
}

/**
 * Where an entry's data starts, from its local header's fixed part (`header`, the
 * LOCAL_HEADER_SIZE bytes at `offset`): only the name and extra-field lengths are taken from
 * it, to place the data; sizes and CRC come from the central directory. Throws invalid-zip
 * when the header is missing.
 */
export function localDataStart(header: Buffer, offset: number, path: string): number {
  if (header.length < LOCAL_HEADER_SIZE || header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) {
    throw invalidZip(`The zip is damaged: the local header of ${JSON.stringify(path)} is missing.`, { entry: path, offset });
  }
  return offset + LOCAL_HEADER_SIZE + header.readUInt16LE(26) + header.readUInt16LE(28);
}

/** localDataStart, reading the local header from the file. */
export async function readLocalDataStart(handle: FileHandle, offset: number, path: string): Promise<number> {
  const header = Buffer.alloc(LOCAL_HEADER_SIZE);
  const read = await readAt(handle, header, offset);
  return localDataStart(header.subarray(0, read), offset, path);
}
