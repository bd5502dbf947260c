/**
 * The file-tree side of extraction: the folders (each created once, parents first), the
 * symlinks (created last), and the check that every symlink resolves inside the target folder.
 *
 * Why no write can follow a link: the target folder is new, every folder and file is created
 * before the first symlink exists (folders without `recursive`, files with `wx`, so neither
 * reuses anything already there), and inspection refused any entry below a symlink entry.
 * Only the symlinks themselves are then resolved through the file system, as a last check of
 * where they point. Used by zip-extract.ts; not exported from the package index.
 */
import { mkdirSync, chmodSync } from 'node:fs';
import { readlink, realpath, symlink } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { CuttleError } from './errors.js';
import type { ZipEntryInfo } from './zip-check.js';
import { inSlices } from './zip-slices.js';
import { errnoCode } from './zip-extract-stream.js';

/**
 * Every folder below the root, explicit entries and the implied parents of all entries, with
 * its mode, parents before children (a parent is met, and so inserted, before its child).
 */
export function plannedDirectories(entries: readonly ZipEntryInfo[]): Map<string, number> {
  const modes = new Map<string, number>();
  for (const info of entries) {
    for (let cut = info.path.indexOf('/'); cut > 0; cut = info.path.indexOf('/', cut + 1)) {
      const parent = info.path.slice(0, cut);
      if (!modes.has(parent)) modes.set(parent, 0o755);
    }
    // owner rwx always: the tentacle writes into it now and removes it when pruning releases
    if (info.kind === 'directory') modes.set(info.path, info.mode | 0o700);
  }
  return modes;
}

/** Creates each folder once, with its final mode (chmod-ed again only when the umask took bits). */
export async function createDirectories(root: string, modes: ReadonlyMap<string, number>, lostBits: number, signal: AbortSignal | undefined): Promise<void> {
  await inSlices([...modes], signal, ([path, mode]) => {
    const at = `${root}/${path}`;
    mkdirSync(at, { mode });
    if (mode & lostBits) chmodSync(at, mode);
    return undefined;
  });
}

/** Creates the symlinks, after everything else, then checks where each one resolves. */
export async function createSymlinks(root: string, links: readonly ZipEntryInfo[], signal: AbortSignal | undefined): Promise<void> {
  for (const info of links) {
    signal?.throwIfAborted();
    if (info.linkTarget === undefined) throw new CuttleError('unsafe-zip-entry', `The symlink ${JSON.stringify(info.path)} has no target.`, { entry: info.path, reason: 'empty-link-target' });
    await symlink(info.linkTarget, `${root}/${info.path}`);
  }
  signal?.throwIfAborted();
  await assertCreatedInside(
    root,
    links.map((info) => `${root}/${info.path}`),
  );
}

/**
 * Checks that each path resolves, through the file system, to the root or below it. A symlink
 * that dangles (points to a path the package does not contain) is checked by resolving its
 * target from the real location of its folder.
 */
export async function assertCreatedInside(root: string, paths: readonly string[]): Promise<void> {
  const realRoot = await realpath(root);
  const inside = (real: string): boolean => real === realRoot || real.startsWith(realRoot + sep);
  for (const path of paths) {
    let real: string;
    try {
      real = await realpath(path);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') real = resolve(await realpath(dirname(path)), await readlink(path));
      else if (code === 'ELOOP') throw escaped(root, path, 'link-loop');
      else throw error;
    }
    if (!inside(real)) throw escaped(root, path, 'escapes-root');
  }
}

function escaped(root: string, path: string, reason: string): CuttleError {
  const entry = path.startsWith(root + sep) ? path.slice(root.length + 1).split(sep).join('/') : path;
  return new CuttleError('unsafe-zip-entry', `The extracted ${JSON.stringify(entry)} resolves outside the target folder.`, { entry, reason });
}
