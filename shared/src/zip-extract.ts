/**
 * Safe extraction of a package zip into a fresh folder, on top of the checks in zip-check.ts.
 * The zip is hashed (when a SHA-256 is expected), inspected and read through its central
 * directory only; every entry's bytes are streamed, counted and CRC-checked on the way to disk.
 * On any failure the target folder is removed, so nothing half-extracted remains.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, open, rm, symlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import type { File as ZipFile } from 'unzipper';
import { CuttleError, isCuttleError } from './errors.js';
import { DEFAULT_ZIP_LIMITS, inspectZip, openZipDirectory } from './zip-check.js';
import type { ZipEntryInfo, ZipLimits } from './zip-check.js';
import { EXTRACT_CHUNK_SIZE, EntryCheck, EntryCounter, corruptCrc, entryDataStart, readRange, sizeMismatch } from './zip-extract-stream.js';
import type { UnpackedTotal } from './zip-extract-stream.js';
import { assertCreatedInside, errnoCode, forEachAtMost } from './zip-extract-tree.js';

export interface ExtractOptions {
  /** Limits checked on the central directory and again, on real bytes, while writing. */
  limits?: ZipLimits;
  /** Lowercase or uppercase hex SHA-256 of the zip file; checked before anything is extracted. */
  expectedSha256?: string;
  /** Aborts between and during entries; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface ExtractResult {
  /** regular files written */
  files: number;
  /** directories created below the target (explicit entries and implied parents) */
  directories: number;
  symlinks: number;
  /** real decompressed bytes written */
  bytes: number;
}

/** Files written at a time: each costs a few threadpool round trips, so overlapping them pays. */
const WRITE_CONCURRENCY = 8;
const DEFLATED = 8;
/** Entries up to this size (packed and unpacked) are read, inflated and written in one piece. */
const SMALL_ENTRY_SIZE = 64 * 1024;

interface PlannedEntry {
  info: ZipEntryInfo;
  file: ZipFile;
}

/**
 * Extracts a package zip into `targetDir`, which must not exist yet (it is created, mode 0o755;
 * its parent is created if needed). Throws CuttleError `package-corrupt` (SHA-256 or CRC-32
 * mismatch), `invalid-zip`, `unsafe-zip-entry`, `zip-limits-exceeded` or `extract-failed`
 * (the target exists, or an I/O error), or the signal's reason when aborted; in every case a
 * target folder this call created is removed again.
 */
export async function extractZip(zipPath: string, targetDir: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const { signal } = options;
  const limits = options.limits ?? DEFAULT_ZIP_LIMITS;
  const root = resolve(targetDir);
  let created = false;
  let zip: FileHandle | undefined;
  try {
    signal?.throwIfAborted();
    zip = await open(zipPath, 'r');
    if (options.expectedSha256 !== undefined) await verifySha256(zip, options.expectedSha256, signal);
    signal?.throwIfAborted();
    const inspection = await inspectZip(zipPath, limits);
    signal?.throwIfAborted();
    const plan = pair(inspection.entries, (await openZipDirectory(zipPath, limits)).files);
    for (const { info } of plan) assertLexicallyInside(root, info.path);
    signal?.throwIfAborted();

    await mkdir(dirname(root), { recursive: true });
    try {
      await mkdir(root, { mode: 0o755 });
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') {
        throw new CuttleError('extract-failed', `The folder ${root} exists already; a package is only extracted into a new folder.`, {
          reason: 'target-exists',
          path: root,
        });
      }
      throw error;
    }
    created = true;
    await chmod(root, 0o755);
    return await extractInto(zip, root, plan, limits, signal);
  } catch (error) {
    const failure = signal?.aborted ? (signal.reason as unknown) : toExtractError(error, zipPath, root);
    if (created) await removeTarget(root, failure);
    throw failure;
  } finally {
    await zip?.close();
  }
}

async function extractInto(zip: FileHandle, root: string, plan: PlannedEntry[], limits: ZipLimits, signal: AbortSignal | undefined): Promise<ExtractResult> {
  const at = (path: string): string => join(root, path);
  // every directory: explicit entries and the parents of all entries; a prefix sorts first
  const directoryModes = new Map<string, number>();
  for (const { info } of plan) {
    for (let cut = info.path.indexOf('/'); cut > 0; cut = info.path.indexOf('/', cut + 1)) {
      const parent = info.path.slice(0, cut);
      if (!directoryModes.has(parent)) directoryModes.set(parent, 0o755);
    }
    // owner rwx always: the tentacle writes into it now and removes it when pruning releases
    if (info.kind === 'directory') directoryModes.set(info.path, info.mode | 0o700);
  }
  const directories = [...directoryModes.keys()].sort();
  for (const path of directories) {
    signal?.throwIfAborted();
    await mkdir(at(path), { mode: 0o700 });
  }

  const total: UnpackedTotal = { bytes: 0, max: limits.maxUnpackedSize };
  const fileEntries = plan.filter(({ info }) => info.kind === 'file');
  await forEachAtMost(WRITE_CONCURRENCY, fileEntries, signal, (entry, stop) => writeEntry(zip, at(entry.info.path), entry, total, stop));
  const files = fileEntries.length;

  const links = plan.filter(({ info }) => info.kind === 'symlink');
  for (const { info } of links) {
    signal?.throwIfAborted();
    if (info.linkTarget === undefined) throw new CuttleError('unsafe-zip-entry', `The symlink ${JSON.stringify(info.path)} has no target.`, { entry: info.path, reason: 'empty-link-target' });
    await symlink(info.linkTarget, at(info.path));
  }

  signal?.throwIfAborted();
  await assertCreatedInside(
    root,
    [...directories, ...plan.filter(({ info }) => info.kind !== 'directory').map(({ info }) => info.path)].map(at),
  );
  // last, so that no mode can get in the way of writing or of the checks above
  for (const path of directories) await chmod(at(path), directoryModes.get(path) ?? 0o755);
  signal?.throwIfAborted();
  return { files, directories: directories.length, symlinks: links.length, bytes: total.bytes };
}

/** Writes one regular file: created with `wx` and the entry's mode, its bytes checked on the way, then chmod-ed. */
async function writeEntry(zip: FileHandle, path: string, entry: PlannedEntry, total: UnpackedTotal, signal: AbortSignal): Promise<void> {
  const { info, file } = entry;
  if (info.size === 0) {
    // nothing to stream (unzipper would trust the local header here); an empty file's CRC is 0
    if (file.crc32 >>> 0 !== 0) throw corruptCrc(info.path, file.crc32, 0);
    await writeFile(path, '', { flag: 'wx', mode: info.mode });
  } else if (info.size <= SMALL_ENTRY_SIZE && info.compressedSize <= SMALL_ENTRY_SIZE) {
    await writeSmallEntry(zip, path, entry, total);
  } else {
    await streamEntry(zip, path, entry, total, signal);
  }
  // the mode was given at open, but the umask may have taken bits away
  await chmod(path, info.mode);
}

/** Streams an entry: zip bytes, inflated, counted and CRC-checked, into the new file. */
async function streamEntry(zip: FileHandle, path: string, { info, file }: PlannedEntry, total: UnpackedTotal, signal: AbortSignal): Promise<void> {
  const data = readRange(zip, await entryDataStart(zip, info.path, file.offsetToLocalFileHeader), info.compressedSize);
  const counter = new EntryCounter({ path: info.path, size: info.size, crc32: file.crc32 }, total);
  const inflater = file.compressionMethod === DEFLATED ? createInflateRaw() : undefined;
  let inflateError: unknown;
  inflater?.once('error', (error: unknown) => (inflateError = error));
  const out = createWriteStream(path, { flags: 'wx', mode: info.mode, highWaterMark: EXTRACT_CHUNK_SIZE });
  try {
    if (inflater) await pipeline(data, inflater, counter, out, { signal });
    else await pipeline(data, counter, out, { signal });
  } catch (error) {
    // pipeline destroys the inflater with other stages' errors too: only zlib's own are about the data
    if (error === inflateError && !isCuttleError(error) && errnoCode(error)?.startsWith('Z_')) throw notInflatable(info.path, error);
    throw error;
  } finally {
    // the file must be closed before a failed extraction removes the folder
    if (!out.closed) await new Promise<void>((done) => out.once('close', () => done()));
  }
}

/**
 * A small entry (both sizes at most SMALL_ENTRY_SIZE) is read and inflated in one piece,
 * with the same checks as a streamed one: the streams' fixed cost per entry dominates for
 * small files, and memory stays bounded by that size, not by the entry's.
 */
async function writeSmallEntry(zip: FileHandle, path: string, { info, file }: PlannedEntry, total: UnpackedTotal): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of readRange(zip, await entryDataStart(zip, info.path, file.offsetToLocalFileHeader), info.compressedSize)) chunks.push(chunk);
  const compressed = chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks);
  let data = compressed;
  if (file.compressionMethod === DEFLATED) {
    try {
      data = inflateRawSync(compressed, { maxOutputLength: info.size });
    } catch (error) {
      if (errnoCode(error) === 'ERR_BUFFER_TOO_LARGE') throw sizeMismatch(info.path, info.size);
      throw notInflatable(info.path, error);
    }
  }
  const check = new EntryCheck({ path: info.path, size: info.size, crc32: file.crc32 }, total);
  check.add(data);
  check.end();
  await writeFile(path, data, { flag: 'wx', mode: info.mode });
}

function notInflatable(path: string, error: unknown): CuttleError {
  const cause = error instanceof Error ? error.message : String(error);
  return new CuttleError('invalid-zip', `The zip is damaged: the data of ${JSON.stringify(path)} cannot be inflated (${cause}).`, { entry: path, cause });
}

/** Streams the zip file through SHA-256 and refuses a mismatch with `package-corrupt`. */
async function verifySha256(zip: FileHandle, expected: string, signal: AbortSignal | undefined): Promise<void> {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback();
    },
  });
  await pipeline(readRange(zip, 0, (await zip.stat()).size), sink, { signal });
  const actual = hash.digest('hex');
  if (actual !== expected.toLowerCase()) {
    throw new CuttleError('package-corrupt', 'The package is corrupt: its SHA-256 does not match the expected one.', { expectedSha256: expected, actualSha256: actual });
  }
}

/** Pairs each inspected entry with its directory record; both lists come from the same central directory. */
function pair(entries: ZipEntryInfo[], files: ZipFile[]): PlannedEntry[] {
  const changed = (): CuttleError => new CuttleError('invalid-zip', 'The zip changed while it was being extracted.');
  if (entries.length !== files.length) throw changed();
  return entries.map((info, index) => {
    const file = files[index];
    const samePath = file !== undefined && (file.path === info.path || file.path === `${info.path}/`);
    if (!file || !samePath || file.uncompressedSize !== info.size || file.compressedSize !== info.compressedSize) throw changed();
    return { info, file };
  });
}

/** Defense in depth: every entry path, joined to the root, stays below it (inspectZip already refused such names). */
function assertLexicallyInside(root: string, path: string): void {
  if (!resolve(root, path).startsWith(root + sep)) {
    throw new CuttleError('unsafe-zip-entry', `The zip entry ${JSON.stringify(path)} would land outside the target folder.`, { entry: path, reason: 'escapes-root' });
  }
}

async function removeTarget(root: string, failure: unknown): Promise<void> {
  try {
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    const reason = failure instanceof Error ? failure.message : String(failure);
    throw new CuttleError('extract-failed', `Extraction failed (${reason}) and the partly extracted folder ${root} could not be removed (${cause}).`, {
      path: root,
      cause,
      failure: isCuttleError(failure) ? failure.code : reason,
    });
  }
}

function toExtractError(error: unknown, zipPath: string, root: string): unknown {
  if (isCuttleError(error)) return error;
  const cause = error instanceof Error ? error.message : String(error);
  const code = errnoCode(error);
  return new CuttleError('extract-failed', `Extracting ${zipPath} into ${root} failed: ${cause}`, { path: root, zip: zipPath, cause, ...(code ? { code } : {}) });
}
