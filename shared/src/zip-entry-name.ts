/**
 * Pure checks on zip entry names and symlink targets. Re-exported by zip-check.ts only.
 * Names are zip names: "/" separated, relative to the package root.
 */
import { CuttleError } from './errors.js';

/** A symlink target is read into memory: at most this many bytes. */
export const MAX_LINK_TARGET_BYTES = 4096;
/** Longest entry name, in UTF-8 bytes (Linux PATH_MAX). */
export const MAX_ENTRY_NAME_BYTES = 4096;
/** Longest path segment of an entry name, in UTF-8 bytes (Linux NAME_MAX). */
export const MAX_SEGMENT_BYTES = 255;
/** How many symlinks a target may go through before we call it a loop (Linux uses 40). */
const MAX_LINK_HOPS = 40;

function unsafe(entry: string, message: string, details: Record<string, unknown>): CuttleError {
  return new CuttleError('unsafe-zip-entry', message, { entry, ...details });
}

/** Validates one entry name and returns it without the trailing "/" of a directory. */
export function normalizeEntryName(name: string): string {
  const refuse = (reason: string, why: string): never => {
    throw unsafe(name, `The zip entry ${JSON.stringify(name)} ${why}.`, { reason });
  };
  if (name === '' || name === '/') refuse('empty-name', 'has an empty name');
  if (name.length * 3 > MAX_ENTRY_NAME_BYTES && Buffer.byteLength(name) > MAX_ENTRY_NAME_BYTES) {
    throw unsafe(name.slice(0, 200), `The zip entry ${JSON.stringify(name.slice(0, 200))}… has a name longer than ${MAX_ENTRY_NAME_BYTES} bytes.`, {
      reason: 'name-too-long',
      bytes: Buffer.byteLength(name),
      max: MAX_ENTRY_NAME_BYTES,
    });
  }
  if (name.includes('\0')) refuse('nul', 'contains a NUL character');
  if (name.includes('\\')) refuse('backslash', 'contains a backslash; zip names use "/"');
  if (name.startsWith('/')) refuse('absolute', 'is an absolute path');
  if (/^[A-Za-z]:/.test(name)) refuse('drive-letter', 'starts with a drive letter');
  const path = name.endsWith('/') ? name.slice(0, -1) : name;
  for (const segment of path.split('/')) {
    if (segment === '') refuse('empty-segment', 'has an empty path segment ("//")');
    if (segment === '.' || segment === '..') refuse('dot-segment', `has a "${segment}" path segment`);
    // a UTF-16 code unit is at most 3 UTF-8 bytes: only long segments need counting
    if (segment.length * 3 > MAX_SEGMENT_BYTES && Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) refuse('name-too-long', `has a path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return path;
}

/**
 * Checks that a symlink target, resolved from the link's own directory with posix rules,
 * stays inside the root (the root itself is inside). Absolute targets, drive letters,
 * NUL and backslash are refused.
 */
export function assertSafeLinkTarget(entryPath: string, target: string): void {
  const refuse = (reason: string, why: string): never => {
    throw unsafe(entryPath, `The symlink ${JSON.stringify(entryPath)} ${why}.`, { reason, target });
  };
  if (target === '') refuse('empty-link-target', 'has an empty target');
  if (Buffer.byteLength(target) > MAX_LINK_TARGET_BYTES) refuse('link-target-too-long', `has a target longer than ${MAX_LINK_TARGET_BYTES} bytes`);
  if (target.includes('\0')) refuse('nul', 'has a target containing a NUL character');
  if (target.includes('\\')) refuse('backslash', 'has a target containing a backslash');
  if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) refuse('absolute-link-target', 'points to an absolute path');
  let depth = entryPath.split('/').length - 1;
  for (const segment of target.split('/')) {
    if (segment === '' || segment === '.') continue;
    depth += segment === '..' ? -1 : 1;
    if (depth < 0) refuse('link-escapes-root', 'points outside the package folder');
  }
}

/**
 * Resolves every symlink the way the file system will once all entries are written, following
 * symlinks met along a target (a textual check alone misses `s -> .` plus `e -> s/..`).
 * Throws unsafe-zip-entry when a resolution leaves the root, loops or goes through too many links.
 * `links` maps normalized link paths to their targets; each target already passed assertSafeLinkTarget.
 */
export function assertLinksStayInside(links: ReadonlyMap<string, string>): void {
  // A resolved location is the list of its prefixes: ["a", "a/b", "a/b/c"]; [] is the root.
  const resolved = new Map<string, string[]>();
  const visiting = new Set<string>();

  const resolveLink = (link: string, origin: string): string[] => {
    const done = resolved.get(link);
    if (done) return done;
    if (visiting.has(link) || visiting.size >= MAX_LINK_HOPS) {
      throw unsafe(origin, `The symlink ${JSON.stringify(origin)} is part of a symlink loop or too long a chain of symlinks.`, {
        reason: 'link-loop',
        through: link,
      });
    }
    visiting.add(link);
    const parent = link.split('/').slice(0, -1);
    const start = parent.map((_, i) => parent.slice(0, i + 1).join('/'));
    const result = walk(start, links.get(link) ?? '', origin);
    visiting.delete(link);
    resolved.set(link, result);
    return result;
  };

  const walk = (start: string[], target: string, origin: string): string[] => {
    let stack = [...start];
    for (const segment of target.split('/')) {
      if (segment === '' || segment === '.') continue;
      if (segment === '..') {
        if (stack.length === 0) {
          throw unsafe(origin, `The symlink ${JSON.stringify(origin)} points outside the package folder through another symlink.`, {
            reason: 'link-escapes-root',
            target: links.get(origin),
          });
        }
        stack.pop();
        continue;
      }
      const top = stack.at(-1);
      const next = top === undefined ? segment : `${top}/${segment}`;
      stack.push(next);
      if (links.has(next)) stack = [...resolveLink(next, origin)];
    }
    return stack;
  };

  for (const link of links.keys()) resolveLink(link, link);
}
