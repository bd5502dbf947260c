import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { EXIT, errorCodeOf } from '@cuttle/shared';
import { CliError, invalidOption } from '../cli-error.js';

/** Permission bits kept in a package: no setuid/setgid/sticky, no group/other write. */
export const MODE_MASK = 0o755;

interface EntryBase {
  /** Relative posix path inside the package (no trailing slash). */
  name: string;
  absPath: string;
  mode: number;
}
export interface FileEntry extends EntryBase {
  kind: 'file';
  stats: Stats;
}
export interface DirectoryEntry extends EntryBase {
  kind: 'directory';
  mtime: Date;
}
export interface SymlinkEntry extends EntryBase {
  kind: 'symlink';
  target: string;
}
export type PackEntry = FileEntry | DirectoryEntry | SymlinkEntry;

export interface WalkOptions {
  /** Absolute, symlink-free path of the folder to pack. */
  root: string;
  /** picomatch globs matched against the relative posix path; an excluded folder excludes its content. */
  exclude: readonly string[];
  /** Absolute paths never packed (the output zip when it lies inside the folder). */
  skip?: ReadonlySet<string>;
}

/** A function that says whether a relative posix path is excluded. */
export function excludeMatcher(globs: readonly string[]): (relPath: string) => boolean {
  const patterns = globs.map((glob) => {
    const pattern = glob.trim().replace(/^\.\//, '').replace(/\/+$/, '');
    if (pattern === '') throw invalidOption(`--exclude "${glob}" is empty.`, { exclude: glob });
    return pattern;
  });
  if (patterns.length === 0) return () => false;
  const isMatch = picomatch(patterns, { dot: true });
  return (relPath) => isMatch(relPath);
}

/** Codes-unit order on the relative posix path: the same on every machine and locale. */
export function compareNames(a: PackEntry, b: PackEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function packFailed(what: string, error: unknown, file: string): CliError {
  const reason = error instanceof Error ? error.message : String(error);
  return new CliError('pack-failed', `${what} ${file} failed: ${reason}`, {
    exitCode: EXIT.failed,
    details: { path: file, cause: errorCodeOf(error) ?? 'unknown' },
    cause: error,
  });
}

function unsupported(name: string, why: string): CliError {
  return new CliError('unsupported-file', `cannot pack "${name}": ${why}; leave it out with --exclude`, {
    exitCode: EXIT.usage,
    details: { path: name },
  });
}

/**
 * Checks a symlink found at `name` (relative) pointing to `target`: the target must be
 * relative and stay strictly inside the packed folder, as the tentacle's extraction demands.
 */
export function checkSymlinkTarget(name: string, target: string): void {
  const refuse = (why: string) =>
    new CliError('unsafe-symlink', `symlink "${name}" -> "${target}" ${why}; only links to something inside the folder can be packed (or --exclude it)`, {
      exitCode: EXIT.usage,
      details: { path: name, target },
    });
  if (target.includes('\\') || target.includes('\0')) throw unsupported(name, 'its target contains a backslash');
  if (path.posix.isAbsolute(target)) throw refuse('is absolute');
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(name), target));
  if (resolved === '.' || resolved === '..' || resolved.startsWith('../')) throw refuse('points outside the folder');
}

/**
 * Lists everything to pack below `root`, sorted by relative path: folders (so empty ones
 * survive), regular files and symlinks (never followed). Throws on anything unpackable.
 */
export async function collectEntries(options: WalkOptions): Promise<PackEntry[]> {
  const isExcluded = excludeMatcher(options.exclude);
  const entries: PackEntry[] = [];
  const pending: string[] = [''];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    const absDir = dir === '' ? options.root : path.join(options.root, dir);
    let children: Dirent[];
    try {
      children = await readdir(absDir, { withFileTypes: true });
    } catch (error) {
      throw packFailed('reading the folder', error, absDir);
    }
    for (const child of children) {
      const name = dir === '' ? child.name : `${dir}/${child.name}`;
      const absPath = path.join(absDir, child.name);
      if (isExcluded(name) || options.skip?.has(absPath)) continue;
      if (child.name.includes('\\')) throw unsupported(name, 'its name contains a backslash, which zip tools read as a folder separator');
      const entry = await describe(name, absPath);
      entries.push(entry);
      if (entry.kind === 'directory') pending.push(name);
    }
  }
  return entries.sort(compareNames);
}

async function describe(name: string, absPath: string): Promise<PackEntry> {
  let stats: Stats;
  try {
    stats = await lstat(absPath);
  } catch (error) {
    throw packFailed('reading', error, absPath);
  }
  const mode = stats.mode & MODE_MASK;
  if (stats.isFile()) return { kind: 'file', name, absPath, mode, stats };
  if (stats.isDirectory()) return { kind: 'directory', name, absPath, mode, mtime: stats.mtime };
  if (stats.isSymbolicLink()) {
    let target: string;
    try {
      target = await readlink(absPath);
    } catch (error) {
      throw packFailed('reading the symlink', error, absPath);
    }
    checkSymlinkTarget(name, target);
    return { kind: 'symlink', name, absPath, mode, target };
  }
  throw unsupported(name, 'it is not a regular file, folder or symlink (a socket, FIFO or device)');
}
