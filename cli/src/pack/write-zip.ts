import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, lstat, open, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type archiver from 'archiver';
import { EXIT, errorCodeOf } from '@cuttle/shared';
import { CliError, interrupted } from '../cli-error.js';
import type { PackEntry } from './walk-tree.js';

/** Deflate level for compressible files. */
export const ZLIB_LEVEL = 6;

/** Extensions of formats that are compressed already: stored as they are, not deflated again. */
export const STORED_EXTENSIONS: ReadonlySet<string> = new Set([
  'zip', 'gz', 'tgz', 'bz2', 'xz', '7z', 'rar', 'jpg', 'jpeg', 'png', 'gif', 'webp', 'avif',
  'mp3', 'mp4', 'mov', 'woff', 'woff2', 'br', 'zst', 'jar', 'war', 'nupkg',
]);

export function isStoredName(name: string): boolean {
  return STORED_EXTENSIONS.has(path.posix.extname(name).slice(1).toLowerCase());
}

export interface WrittenZip {
  path: string;
  size: number;
  sha256: string;
  entries: number;
}

export function outputExists(outPath: string): CliError {
  return new CliError('output-exists', `${outPath} exists already; pass --overwrite to replace it`, {
    exitCode: EXIT.failed,
    details: { file: outPath },
  });
}

/** Counts and hashes the zip on its way to disk. */
class HashCounter extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }
}

function addEntry(archive: archiver.Archiver, entry: PackEntry): void {
  switch (entry.kind) {
    case 'directory':
      archive.append(Buffer.alloc(0), { name: `${entry.name}/`, mode: entry.mode, date: entry.mtime });
      return;
    case 'symlink':
      archive.symlink(entry.name, entry.target, entry.mode);
      return;
    case 'file': {
      // `store` is a zip option that @types/archiver leaves out of file()'s parameter type.
      const data: archiver.ZipEntryData = { name: entry.name, mode: entry.mode, stats: entry.stats, date: entry.stats.mtime, store: isStoredName(entry.name) };
      archive.file(entry.absPath, data);
      return;
    }
  }
}

/**
 * Writes `entries` as a zip to `outPath`: into a temporary file beside it (created with `wx`),
 * synced, then moved into place. Any failure, archiver warnings included (a file that
 * vanished would make an incomplete package), removes the temporary file.
 */
export interface WriteZipOptions {
  /** Replace an existing output file. */
  overwrite: boolean;
  signal?: AbortSignal;
}

export async function writePackageZip(entries: readonly PackEntry[], outPath: string, options: WriteZipOptions): Promise<WrittenZip> {
  const tmpPath = path.join(path.dirname(outPath), `.${path.basename(outPath)}.${randomBytes(6).toString('hex')}.tmp`);
  const signal = options.signal;
  try {
    const counter = new HashCounter();
    // Loaded on use: archiver costs a third of a second of start-up that push and the others need not pay.
    const { default: createArchiver } = await import('archiver');
    const archive = createArchiver('zip', { zlib: { level: ZLIB_LEVEL } });
    archive.on('warning', (warning: Error) => archive.destroy(warning));
    const file = createWriteStream(tmpPath, { flags: 'wx', mode: 0o644 });
    const written = pipeline(archive, counter, file, signal === undefined ? {} : { signal });
    for (const entry of entries) addEntry(archive, entry);
    // Errors surface through the pipeline; this promise only mirrors them.
    archive.finalize().catch(() => undefined);
    await written;
    await syncFile(tmpPath);
    if (signal?.aborted === true) throw interrupted();
    await moveIntoPlace(tmpPath, outPath, options.overwrite);
    return { path: outPath, size: counter.size, sha256: counter.hash.digest('hex'), entries: entries.length };
  } catch (error) {
    await rm(tmpPath, { force: true });
    if (error instanceof CliError) throw error;
    if (signal?.aborted === true) throw interrupted();
    throw writeFailed(error, outPath);
  }
}

/** The zip's bytes reach the disk before the rename makes it visible. */
async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** rename, or without --overwrite a hard link that fails if the output appeared meanwhile. */
async function moveIntoPlace(tmpPath: string, outPath: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await rename(tmpPath, outPath);
    return;
  }
  try {
    await link(tmpPath, outPath);
  } catch (error) {
    if (errorCodeOf(error) === 'EEXIST') throw outputExists(outPath);
    // Filesystems without hard links: fall back to a plain rename.
    if (await exists(outPath)) throw outputExists(outPath);
    await rename(tmpPath, outPath);
    return;
  }
  await unlink(tmpPath);
}

export async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    const code = errorCodeOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
}

function writeFailed(error: unknown, file: string): CliError {
  const reason = error instanceof Error ? error.message : String(error);
  return new CliError('pack-failed', `writing ${file} failed: ${reason}`, {
    exitCode: EXIT.failed,
    details: { file, cause: errorCodeOf(error) ?? 'unknown' },
    cause: error,
  });
}
