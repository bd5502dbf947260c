/**
 * Zip inspection: everything a package must pass before it is stored or extracted.
 * The zip is read through its central directory only (zip-directory.ts); local headers are
 * trusted for nothing but where an entry's bytes start.
 */
import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { CuttleError, isCuttleError } from './errors.js';
import { DEFLATED, LOCAL_HEADER_SIZE, STORED, invalidZip, readAt, readCentralDirectory, readEnd, readLocalDataStart } from './zip-directory.js';
import type { CentralRecord, EndOfCentralDirectory } from './zip-directory.js';
import { MAX_LINK_TARGET_BYTES, assertLinksStayInside, assertSafeLinkTarget, normalizeEntryName } from './zip-entry-name.js';
import { SliceClock } from './zip-slices.js';

export { MAX_ENTRY_NAME_BYTES, MAX_LINK_TARGET_BYTES, MAX_SEGMENT_BYTES, assertSafeLinkTarget, normalizeEntryName } from './zip-entry-name.js';
export { centralDirectoryBudget } from './zip-directory.js';

export interface ZipLimits {
  /** Most entries (files, directories, symlinks) one zip may hold. */
  maxEntries: number;
  /** Most bytes all entries may unpack to, summed. */
  maxUnpackedSize: number;
  /** Highest uncompressed / compressed ratio of one entry of at least ratioCheckMinSize bytes. */
  maxCompressionRatio: number;
  /** Entries smaller than this are not ratio-checked (small files compress very well legitimately). */
  ratioCheckMinSize: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = Object.freeze({
  maxEntries: 100_000,
  maxUnpackedSize: 32 * 1024 ** 3,
  maxCompressionRatio: 200,
  ratioCheckMinSize: 1024 ** 2,
});

export type ZipEntryKind = 'file' | 'directory' | 'symlink';

export interface ZipEntryInfo {
  /** normalized, no trailing slash */
  path: string;
  kind: ZipEntryKind;
  size: number;
  compressedSize: number;
  /** already masked to & 0o755 */
  mode: number;
  linkTarget?: string;
}

export interface ZipInspection {
  entries: ZipEntryInfo[];
  fileCount: number;
  totalSize: number;
}

const KINDS: ReadonlySet<string> = new Set<ZipEntryKind>(['file', 'directory', 'symlink']);
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const UNIX_TYPE_NAMES: Record<number, string> = { 0o010000: 'FIFO', 0o020000: 'character device', 0o060000: 'block device', 0o140000: 'socket' };
const MADE_BY_UNIX = 3;
const FLAG_ENCRYPTED = 0x1;

function unsafe(entry: string, message: string, details: Record<string, unknown> = {}): CuttleError {
  return new CuttleError('unsafe-zip-entry', message, { entry, ...details });
}

function tooBig(message: string, details: Record<string, unknown>): CuttleError {
  return new CuttleError('zip-limits-exceeded', message, details);
}

const isSize = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Checks a whole list of entries: names, duplicates, file-vs-directory clashes, kinds, symlinks, limits. */
export function checkEntries(entries: ZipEntryInfo[], limits: ZipLimits): ZipInspection {
  if (entries.length > limits.maxEntries) {
    throw tooBig(`The zip has ${entries.length} entries; at most ${limits.maxEntries} are allowed.`, {
      limit: 'maxEntries',
      value: entries.length,
      max: limits.maxEntries,
    });
  }
  const kinds = new Map<string, ZipEntryKind>();
  const links = new Map<string, string>();
  let totalSize = 0;
  let fileCount = 0;
  for (const entry of entries) {
    const { path, kind, size, compressedSize } = entry;
    if (normalizeEntryName(path) !== path) throw unsafe(path, `The zip entry ${JSON.stringify(path)} is not a normalized path.`, { reason: 'not-normalized' });
    if (!KINDS.has(kind)) throw unsafe(path, `The zip entry ${JSON.stringify(path)} has the unknown kind ${JSON.stringify(kind)}.`, { reason: 'kind', kind });
    if (!isSize(size) || !isSize(compressedSize)) throw invalidZip(`The zip entry ${JSON.stringify(path)} has an invalid size.`, { entry: path, size, compressedSize });
    if (!Number.isInteger(entry.mode) || (entry.mode & ~0o755) !== 0) {
      throw unsafe(path, `The zip entry ${JSON.stringify(path)} has mode ${entry.mode.toString(8)}; only bits of 755 are kept.`, { reason: 'mode', mode: entry.mode });
    }
    const seen = kinds.get(path);
    if (seen !== undefined) {
      throw unsafe(path, `The zip has ${JSON.stringify(path)} more than once (as a ${seen} and as a ${kind}).`, { reason: 'duplicate', kinds: [seen, kind] });
    }
    kinds.set(path, kind);
    if (kind === 'file') fileCount++;
    if (kind === 'directory' && size !== 0) {
      throw unsafe(path, `The directory entry ${JSON.stringify(path)} carries ${size} bytes of data.`, { reason: 'directory-with-data', size });
    }
    if (kind === 'symlink') {
      if (entry.linkTarget === undefined) throw unsafe(path, `The symlink ${JSON.stringify(path)} has no target.`, { reason: 'empty-link-target' });
      assertSafeLinkTarget(path, entry.linkTarget);
      links.set(path, entry.linkTarget);
    }
    totalSize += size;
    if (totalSize > limits.maxUnpackedSize) {
      throw tooBig(`The zip unpacks to more than ${limits.maxUnpackedSize} bytes (reached at ${JSON.stringify(path)}).`, {
        entry: path,
        limit: 'maxUnpackedSize',
        value: totalSize,
        max: limits.maxUnpackedSize,
      });
    }
    const ratio = size / Math.max(compressedSize, 1);
    if (size >= limits.ratioCheckMinSize && ratio > limits.maxCompressionRatio) {
      throw tooBig(`The zip entry ${JSON.stringify(path)} is compressed ${Math.round(ratio)} to 1; at most ${limits.maxCompressionRatio} to 1 is allowed.`, {
        entry: path,
        limit: 'maxCompressionRatio',
        value: ratio,
        max: limits.maxCompressionRatio,
        size,
        compressedSize,
      });
    }
  }
  for (const { path } of entries) {
    for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
      const parent = path.slice(0, cut);
      const parentKind = kinds.get(parent);
      if (parentKind !== undefined && parentKind !== 'directory') {
        throw unsafe(path, `The zip entry ${JSON.stringify(path)} lies inside ${JSON.stringify(parent)}, which is a ${parentKind}, not a directory.`, {
          reason: 'parent-not-directory',
          parent,
          parentKind,
        });
      }
    }
  }
  assertLinksStayInside(links);
  return { entries, fileCount, totalSize };
}

/** Entry kind and kept mode bits, from the unix mode when a unix tool made the entry. */
function kindAndMode(record: CentralRecord, path: string): { kind: ZipEntryKind; mode: number } {
  const unixMode = record.versionMadeBy >> 8 === MADE_BY_UNIX ? record.externalAttributes >>> 16 : 0;
  const type = unixMode & S_IFMT;
  let kind: ZipEntryKind;
  if (type === S_IFLNK) kind = 'symlink';
  else if (type === S_IFDIR) kind = 'directory';
  else if (type === S_IFREG || type === 0) kind = record.name.endsWith('/') ? 'directory' : 'file';
  else {
    const typeName = UNIX_TYPE_NAMES[type] ?? `type ${type.toString(8)}`;
    throw unsafe(path, `The zip entry ${JSON.stringify(path)} is a ${typeName}; only files, directories and symlinks are allowed.`, {
      reason: 'kind',
      mode: unixMode.toString(8),
    });
  }
  const permissions = unixMode & 0o777;
  const mode = permissions === 0 ? (kind === 'directory' ? 0o755 : 0o644) : permissions & 0o755;
  return { kind, mode };
}

/** Builds one entry's info from its central directory record; checks what only the record knows. */
function entryInfo(record: CentralRecord, end: EndOfCentralDirectory): ZipEntryInfo {
  const { compressedSize, size, localHeaderOffset: offset, index } = record;
  if (!isSize(size) || !isSize(compressedSize) || !isSize(offset)) {
    throw invalidZip(`The zip is damaged: central directory record ${index + 1} (${JSON.stringify(record.name)}) is unreadable.`, { entry: record.name, index });
  }
  if (offset + LOCAL_HEADER_SIZE + compressedSize > end.directoryOffset) {
    throw invalidZip(`The zip is truncated or damaged: the data of ${JSON.stringify(record.name)} lies beyond the end of the file's data.`, {
      entry: record.name,
      offset,
      compressedSize,
      directoryOffset: end.directoryOffset,
    });
  }
  if (!record.nameIsUtf8) throw unsafe(record.name, `The zip entry name ${JSON.stringify(record.name)} is not valid UTF-8.`, { reason: 'encoding' });
  const path = normalizeEntryName(record.name);
  if (record.flags & FLAG_ENCRYPTED) throw unsafe(path, `The zip entry ${JSON.stringify(record.name)} is encrypted; packages must not be.`, { reason: 'encrypted' });
  if (record.method !== STORED && record.method !== DEFLATED) {
    throw unsafe(path, `The zip entry ${JSON.stringify(record.name)} uses compression method ${record.method}; only stored and deflate are supported.`, {
      reason: 'compression-method',
      compressionMethod: record.method,
    });
  }
  if ((record.method === STORED && compressedSize !== size) || (compressedSize === 0 && size > 0)) {
    throw invalidZip(`The zip is damaged: the sizes of ${JSON.stringify(record.name)} do not agree (${size} bytes, ${compressedSize} compressed).`, {
      entry: path,
      size,
      compressedSize,
    });
  }
  return { path, ...kindAndMode(record, path), size, compressedSize };
}

/** Reads a symlink's target: at most MAX_LINK_TARGET_BYTES, exactly the announced size and CRC-32, UTF-8. */
async function readLinkTarget(handle: FileHandle, record: CentralRecord, path: string): Promise<string> {
  const shown = JSON.stringify(path);
  if (record.size > MAX_LINK_TARGET_BYTES || record.compressedSize > MAX_LINK_TARGET_BYTES + 64) {
    throw unsafe(path, `The symlink ${shown} has a target longer than ${MAX_LINK_TARGET_BYTES} bytes.`, { reason: 'link-target-too-long', size: record.size });
  }
  if (record.size === 0) return ''; // refused by assertSafeLinkTarget; nothing to read
  const compressed = Buffer.alloc(record.compressedSize);
  const read = await readAt(handle, compressed, await readLocalDataStart(handle, record.localHeaderOffset, path));
  let target: Buffer;
  try {
    if (read !== compressed.length) throw new Error('the zip ends before it');
    target = record.method === DEFLATED ? inflateRawSync(compressed, { maxOutputLength: record.size }) : compressed;
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw invalidZip(`The zip is damaged: the target of the symlink ${shown} cannot be read (${cause}).`, { entry: path, size: record.size, cause });
  }
  if (target.length !== record.size) {
    throw invalidZip(`The zip is damaged: the target of the symlink ${shown} is not ${record.size} bytes long.`, { entry: path, size: record.size });
  }
  if (crc32(target) >>> 0 !== record.crc32 >>> 0) {
    throw new CuttleError('package-corrupt', `The package is corrupt: the target of the symlink ${shown} does not match its CRC-32.`, { entry: path });
  }
  if (!isUtf8(target)) throw unsafe(path, `The target of the symlink ${shown} is not valid UTF-8.`, { reason: 'encoding' });
  return target.toString('utf8');
}

/** An inspected zip and, index for index, the central directory records its entries come from. */
export interface ZipDirectory {
  inspection: ZipInspection;
  records: CentralRecord[];
}

/**
 * inspectZip on an open zip, also giving the records (CRC-32, method, offsets) that
 * extraction needs, so the central directory is read once.
 */
export async function inspectOpenZip(handle: FileHandle, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipDirectory> {
  try {
    const end = await readEnd(handle, (await handle.stat()).size, limits);
    const records = await readCentralDirectory(handle, end);
    const clock = new SliceClock();
    const entries: ZipEntryInfo[] = [];
    for (const record of records) {
      if (record.index % 64 === 63 && clock.due) await clock.nextSlice();
      entries.push(entryInfo(record, end));
    }
    for (const [index, entry] of entries.entries()) {
      const record = records[index];
      if (entry.kind === 'symlink' && record) entry.linkTarget = await readLinkTarget(handle, record, entry.path);
    }
    return { inspection: checkEntries(entries, limits), records };
  } catch (error) {
    if (isCuttleError(error)) throw error;
    const cause = error instanceof Error ? error.message : String(error);
    throw invalidZip(`The file is not a readable zip (${cause}).`, { cause });
  }
}

/**
 * Reads the zip's central directory, builds the entry infos (reading each symlink's small
 * target) and runs checkEntries. Throws invalid-zip, unsafe-zip-entry, zip-limits-exceeded,
 * or package-corrupt for a symlink target that fails its CRC-32. Regular files' CRCs are not
 * checked here: extraction checks them, and a package's SHA-256 covers all of its bytes.
 */
export async function inspectZip(filePath: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipInspection> {
  let handle: FileHandle;
  try {
    handle = await open(filePath, 'r');
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw invalidZip(`The file is not a readable zip (${cause}).`, { cause });
  }
  try {
    return (await inspectOpenZip(handle, limits)).inspection;
  } finally {
    await handle.close();
  }
}
