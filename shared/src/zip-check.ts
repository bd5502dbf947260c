/**
 * Zip inspection: everything a package must pass before it is stored or extracted.
 * The zip is read through its central directory only (unzipper.Open.file); local headers
 * are trusted for nothing but the bytes of symlink targets.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { CentralDirectory, File as ZipFile } from 'unzipper';
import { CuttleError, isCuttleError } from './errors.js';
import { MAX_LINK_TARGET_BYTES, assertLinksStayInside, assertSafeLinkTarget, normalizeEntryName } from './zip-entry-name.js';

export { MAX_ENTRY_NAME_BYTES, MAX_LINK_TARGET_BYTES, MAX_SEGMENT_BYTES, assertSafeLinkTarget, normalizeEntryName } from './zip-entry-name.js';

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

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** unzipper's default tailSize: it takes the first end-record signature in the last 80 bytes. */
const UNZIPPER_TAIL = 80;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const CENTRAL_HEADER_MIN = 46;
const LOCAL_HEADER_MIN = 30;
const FLAG_ENCRYPTED = 0x1;
/** Most bytes of central directory read into memory (unzipper keeps all of it, names, extras and comments). */
const MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 ** 2;
/** Budget of central directory bytes per allowed entry. */
const CENTRAL_DIRECTORY_BYTES_PER_ENTRY = 1024;
/** Chunk size for walking the central directory record headers. */
const SCAN_CHUNK = 1024 ** 2;
const STORED = 0;
const DEFLATED = 8;

function invalidZip(message: string, details?: Record<string, unknown>): CuttleError {
  return new CuttleError('invalid-zip', message, details);
}

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

interface EndOfCentralDirectory {
  /** offset of the (non-zip64) end record, which unzipper must find first */
  endOffset: number;
  directoryOffset: number;
  directorySize: number;
}

/**
 * Finds and checks the end of central directory record ourselves, before unzipper reads it:
 * unzipper only looks at the last 80 bytes and takes the first signature there, and it lists
 * as many records as the end record claims. The end record must end the file exactly.
 */
async function readEnd(handle: FileHandle, fileSize: number, limits: ZipLimits): Promise<EndOfCentralDirectory> {
  if (fileSize < EOCD_SIZE) throw invalidZip(`The file (${fileSize} bytes) is too short to be a zip.`, { size: fileSize });
  const tailSize = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tail = Buffer.alloc(tailSize);
  await handle.read(tail, 0, tailSize, fileSize - tailSize);
  const candidates: number[] = [];
  for (let i = tailSize - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tailSize) candidates.push(i);
  }
  const at = candidates[0];
  if (at === undefined) throw invalidZip('The file is not a zip: it has no end of central directory record (empty, truncated or another format).');
  const window = tail.subarray(Math.max(0, tailSize - UNZIPPER_TAIL), at);
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
  // the same zip64 test as unzipper (and Go), so that both read the same numbers
  if (end.readUInt16LE(4) === 0xffff || count === 0xffff || directoryOffset === 0xffffffff) {
    const locator = Buffer.alloc(ZIP64_LOCATOR_SIZE);
    const locatorOffset = endOffset - ZIP64_LOCATOR_SIZE;
    if (locatorOffset < 0) throw invalidZip('The zip64 end of central directory locator is missing.');
    await handle.read(locator, 0, ZIP64_LOCATOR_SIZE, locatorOffset);
    const recordOffset = Number(locator.readBigUInt64LE(8));
    if (locator.readUInt32LE(0) !== ZIP64_LOCATOR_SIGNATURE || recordOffset + ZIP64_EOCD_SIZE > locatorOffset) {
      throw invalidZip('The zip64 end of central directory locator is missing or damaged.');
    }
    const record = Buffer.alloc(ZIP64_EOCD_SIZE);
    await handle.read(record, 0, ZIP64_EOCD_SIZE, recordOffset);
    if (record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) throw invalidZip('The zip64 end of central directory record is damaged.');
    count = Number(record.readBigUInt64LE(32));
    directorySize = Number(record.readBigUInt64LE(40));
    directoryOffset = Number(record.readBigUInt64LE(48));
    directoryEnd = recordOffset;
  }
  if (count > limits.maxEntries) {
    throw tooBig(`The zip has ${count} entries; at most ${limits.maxEntries} are allowed.`, { limit: 'maxEntries', value: count, max: limits.maxEntries });
  }
  const maxDirectorySize = centralDirectoryBudget(limits);
  if (directorySize > maxDirectorySize) {
    throw tooBig(`The zip's central directory is ${directorySize} bytes; at most ${maxDirectorySize} are allowed.`, {
      limit: 'centralDirectorySize',
      value: directorySize,
      max: maxDirectorySize,
    });
  }
  if (directoryOffset + directorySize > directoryEnd || count * CENTRAL_HEADER_MIN > directorySize) {
    throw invalidZip('The zip is truncated or damaged: its central directory does not fit in the file.', {
      entries: count,
      directoryOffset,
      directorySize,
      fileSize,
    });
  }
  await assertRecordsInsideDirectory(handle, count, directoryOffset, directorySize);
  return { endOffset, directoryOffset, directorySize };
}

/** Most central directory bytes a zip may have under these limits: min(64 MiB, maxEntries * 1 KiB). */
export function centralDirectoryBudget(limits: ZipLimits): number {
  return Math.min(MAX_CENTRAL_DIRECTORY_BYTES, Math.max(0, limits.maxEntries) * CENTRAL_DIRECTORY_BYTES_PER_ENTRY);
}

/**
 * Walks the record headers of the central directory (without keeping names, extras or comments)
 * and checks that `count` records fit in the `directorySize` bytes the end record announces.
 * unzipper reads `count` records from the directory offset whatever the size says, so without
 * this a small announced size would not bound what it loads.
 */
async function assertRecordsInsideDirectory(handle: FileHandle, count: number, directoryOffset: number, directorySize: number): Promise<void> {
  const chunk = Buffer.alloc(Math.min(SCAN_CHUNK, Math.max(directorySize, CENTRAL_HEADER_MIN)));
  let chunkStart = 0; // relative to the directory
  let chunkLength = 0;
  let at = 0;
  for (let index = 0; index < count; index++) {
    if (at + CENTRAL_HEADER_MIN > directorySize) {
      throw invalidZip(`The zip is damaged: central directory record ${index + 1} lies beyond the central directory's announced size.`, {
        index,
        entries: count,
        directorySize,
      });
    }
    if (at < chunkStart || at + CENTRAL_HEADER_MIN > chunkStart + chunkLength) {
      chunkStart = at;
      const wanted = Math.min(chunk.length, directorySize - at);
      ({ bytesRead: chunkLength } = await handle.read(chunk, 0, wanted, directoryOffset + at));
      if (chunkLength < CENTRAL_HEADER_MIN) throw invalidZip('The zip is truncated: its central directory cannot be read.', { index, directorySize });
    }
    const header = at - chunkStart;
    if (chunk.readUInt32LE(header) !== CENTRAL_HEADER_SIGNATURE) {
      throw invalidZip(`The zip is damaged: central directory record ${index + 1} is unreadable.`, { index });
    }
    at += CENTRAL_HEADER_MIN + chunk.readUInt16LE(header + 28) + chunk.readUInt16LE(header + 30) + chunk.readUInt16LE(header + 32);
  }
  if (at > directorySize) {
    throw invalidZip("The zip is damaged: its central directory records run past the central directory's announced size.", {
      entries: count,
      directorySize,
      recordsSize: at,
    });
  }
}

async function openChecked(filePath: string, limits: ZipLimits): Promise<{ directory: CentralDirectory; end: EndOfCentralDirectory }> {
  try {
    let handle: FileHandle | undefined;
    let fileSize: number;
    let end: EndOfCentralDirectory;
    try {
      handle = await open(filePath, 'r');
      fileSize = (await handle.stat()).size;
      end = await readEnd(handle, fileSize, limits);
    } finally {
      await handle?.close();
    }
    // @types/unzipper omits the options argument; tailSize makes unzipper start exactly at our end record
    // loaded on first use: the CLI imports shared for its schemas and should not pay for unzipper at start-up
    const { default: unzipper } = await import('unzipper');
    const openFile: (path: string, options?: { tailSize?: number }) => Promise<CentralDirectory> = unzipper.Open.file;
    return { directory: await openFile(filePath, { tailSize: fileSize - end.endOffset }), end };
  } catch (error) {
    if (isCuttleError(error)) throw error;
    const cause = error instanceof Error ? error.message : String(error);
    throw invalidZip(`The file is not a readable zip (${cause}).`, { cause });
  }
}

/**
 * Opens a zip's central directory with unzipper at the end record inspectZip checks (unzipper's
 * own search can pick another one). Extraction opens zips through this, after inspectZip.
 */
export async function openZipDirectory(filePath: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<CentralDirectory> {
  return (await openChecked(filePath, limits)).directory;
}

/** Entry kind and kept mode bits, from the unix mode when a unix tool made the entry. */
function kindAndMode(file: ZipFile, path: string): { kind: ZipEntryKind; mode: number } {
  const unixMode = file.versionMadeBy >> 8 === 3 ? file.externalFileAttributes >>> 16 : 0;
  const type = unixMode & S_IFMT;
  let kind: ZipEntryKind;
  if (type === S_IFLNK) kind = 'symlink';
  else if (type === S_IFDIR) kind = 'directory';
  else if (type === S_IFREG || type === 0) kind = file.path.endsWith('/') ? 'directory' : 'file';
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

const utf8 = (bytes: Uint8Array): string | undefined => {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
};

/** Builds one entry's info from its central directory record; checks what only the record knows. */
function entryInfo(file: ZipFile, index: number, end: EndOfCentralDirectory): ZipEntryInfo {
  const { compressedSize, uncompressedSize: size, offsetToLocalFileHeader: offset } = file;
  const shown = JSON.stringify(file.path);
  if (file.signature !== CENTRAL_HEADER_SIGNATURE || !isSize(size) || !isSize(compressedSize) || !isSize(offset)) {
    throw invalidZip(`The zip is damaged: central directory record ${index + 1} (${shown}) is unreadable.`, { entry: file.path, index });
  }
  if (offset + LOCAL_HEADER_MIN + compressedSize > end.directoryOffset) {
    throw invalidZip(`The zip is truncated or damaged: the data of ${shown} lies beyond the end of the file's data.`, {
      entry: file.path,
      offset,
      compressedSize,
      directoryOffset: end.directoryOffset,
    });
  }
  // unzipper gives an empty name as the string '', not a Buffer
  if (utf8(Buffer.from(file.pathBuffer)) === undefined) throw unsafe(file.path, `The zip entry name ${shown} is not valid UTF-8.`, { reason: 'encoding' });
  const path = normalizeEntryName(file.path);
  if (file.flags & FLAG_ENCRYPTED) throw unsafe(path, `The zip entry ${shown} is encrypted; packages must not be.`, { reason: 'encrypted' });
  if (file.compressionMethod !== STORED && file.compressionMethod !== DEFLATED) {
    throw unsafe(path, `The zip entry ${shown} uses compression method ${file.compressionMethod}; only stored and deflate are supported.`, {
      reason: 'compression-method',
      compressionMethod: file.compressionMethod,
    });
  }
  if ((file.compressionMethod === STORED && compressedSize !== size) || (compressedSize === 0 && size > 0)) {
    throw invalidZip(`The zip is damaged: the sizes of ${shown} do not agree (${size} bytes, ${compressedSize} compressed).`, {
      entry: path,
      size,
      compressedSize,
    });
  }
  return { path, ...kindAndMode(file, path), size, compressedSize };
}

/** Reads a symlink's target: at most MAX_LINK_TARGET_BYTES, exactly the announced size, UTF-8. */
async function readLinkTarget(file: ZipFile, path: string): Promise<string> {
  const shown = JSON.stringify(path);
  if (file.uncompressedSize > MAX_LINK_TARGET_BYTES || file.compressedSize > MAX_LINK_TARGET_BYTES + 64) {
    throw unsafe(path, `The symlink ${shown} has a target longer than ${MAX_LINK_TARGET_BYTES} bytes.`, { reason: 'link-target-too-long', size: file.uncompressedSize });
  }
  if (file.uncompressedSize === 0) return ''; // refused by assertSafeLinkTarget; nothing to read
  const chunks: Buffer[] = [];
  let length = 0;
  const stream = file.stream();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > file.uncompressedSize) break;
      chunks.push(chunk);
    }
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw invalidZip(`The zip is damaged: the target of the symlink ${shown} cannot be read (${cause}).`, { entry: path, cause });
  } finally {
    stream.destroy();
  }
  if (length !== file.uncompressedSize) {
    throw invalidZip(`The zip is damaged: the target of the symlink ${shown} is not ${file.uncompressedSize} bytes long.`, { entry: path, size: file.uncompressedSize });
  }
  const target = utf8(Buffer.concat(chunks));
  if (target === undefined) throw unsafe(path, `The target of the symlink ${shown} is not valid UTF-8.`, { reason: 'encoding' });
  return target;
}

/**
 * Opens the zip through its central directory only, builds the entry infos (reading each
 * symlink's small target) and runs checkEntries. Throws invalid-zip, unsafe-zip-entry or
 * zip-limits-exceeded. It does not check CRCs: verify the package's SHA-256 before extracting.
 */
export async function inspectZip(filePath: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipInspection> {
  const { directory, end } = await openChecked(filePath, limits);
  const entries = directory.files.map((file, index) => entryInfo(file, index, end));
  for (const [index, entry] of entries.entries()) {
    const file = directory.files[index];
    if (entry.kind === 'symlink' && file) entry.linkTarget = await readLinkTarget(file, entry.path);
  }
  return checkEntries(entries, limits);
}
