/**
 * Safe extraction of a package zip into a fresh folder, on top of the checks in zip-check.ts.
 * The zip is hashed (when a SHA-256 is expected), then its central directory is read and
 * inspected once; every entry's bytes are read from where that directory places them,
 * inflated, counted and CRC-checked on the way to disk, in synchronous slices with one reused
 * inflate engine (zip-extract-batch.ts, zip-inflater.ts); streamed (zip-extract-stream.ts) only
 * for large entries where that engine is not available.
 * Folders come first, then files, symlinks last (zip-extract-tree.ts). On any failure the
 * target folder is removed, so nothing half-extracted remains.
 */
import { chmod, mkdir, open, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { CuttleError, isCuttleError } from './errors.js';
import { DEFAULT_ZIP_LIMITS, inspectOpenZip } from './zip-check.js';
import type { ZipLimits } from './zip-check.js';
import { EntryWriter, isSmallEntry } from './zip-extract-batch.js';
import { errnoCode, streamEntry, verifySha256 } from './zip-extract-stream.js';
import type { PlannedEntry, UnpackedTotal } from './zip-extract-stream.js';
import type { CentralRecord } from './zip-directory.js';
import { createDirectories, createSymlinks, plannedDirectories } from './zip-extract-tree.js';
import { openRawInflater } from './zip-inflater.js';
import { inSlices } from './zip-slices.js';

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
  /**
   * The regular files written, as paths relative to the target with `/` between segments,
   * sorted: what a walk of the fresh folder would find, without walking it.
   */
  filePaths: string[];
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
    const { inspection, records } = await inspectOpenZip(zip, limits);
    const plan = inspection.entries.map((info, index): PlannedEntry => ({ info, record: records[index] as CentralRecord }));
    await inSlices(plan, signal, ({ info }) => assertLexicallyInside(root, info.path));

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
    // what the umask (or the parent's default ACL) took from 0o755: entries whose mode has those bits are chmod-ed
    const rootMode = (await stat(root)).mode & 0o7777;
    const lostBits = 0o755 & ~rootMode;
    if (rootMode !== 0o755) await chmod(root, 0o755);
    return await extractInto(zip, root, plan, limits, lostBits, signal);
  } catch (error) {
    const failure = signal?.aborted ? (signal.reason as unknown) : toExtractError(error, zipPath, root);
    if (created) await removeTarget(root, failure);
    throw failure;
  } finally {
    await zip?.close();
  }
}

async function extractInto(zip: FileHandle, root: string, plan: PlannedEntry[], limits: ZipLimits, lostBits: number, signal: AbortSignal | undefined): Promise<ExtractResult> {
  const directories = plannedDirectories(plan.map(({ info }) => info));
  await createDirectories(root, directories, lostBits, signal);

  // in the order of their data in the zip, so that the window reads it sequentially
  const files = plan.filter(({ info }) => info.kind === 'file').sort((a, b) => a.record.localHeaderOffset - b.record.localHeaderOffset);
  const total: UnpackedTotal = { bytes: 0, max: limits.maxUnpackedSize };
  const writer = new EntryWriter(zip.fd, openRawInflater());
  try {
    await inSlices(files, signal, (entry) => {
      const path = `${root}/${entry.info.path}`;
      const fixMode = (entry.info.mode & lostBits) !== 0;
      if (isSmallEntry(entry)) {
        writer.writeSmall(path, entry, total, fixMode);
        return undefined;
      }
      if (writer.inflater !== undefined) return writer.writeLarge(path, entry, total, signal, fixMode);
      return streamEntry(zip, path, entry, total, signal, fixMode);
    });
  } finally {
    writer.close();
  }

  const links = plan.filter(({ info }) => info.kind === 'symlink').map(({ info }) => info);
  await createSymlinks(root, links, signal);
  signal?.throwIfAborted();
  const filePaths = files.map(({ info }) => info.path).sort();
  return { files: files.length, directories: directories.size, symlinks: links.length, bytes: total.bytes, filePaths };
}

/** Defense in depth: every entry path, joined to the root, stays below it (inspection already refused such names). */
function assertLexicallyInside(root: string, path: string): undefined {
  if (!resolve(root, path).startsWith(root + sep)) {
    throw new CuttleError('unsafe-zip-entry', `The zip entry ${JSON.stringify(path)} would land outside the target folder.`, { entry: path, reason: 'escapes-root' });
  }
  return undefined;
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
