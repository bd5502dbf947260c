/**
 * The file-tree side of extraction: bounded concurrency that waits for every started task,
 * and the final check that nothing created resolves outside the target folder. Used by
 * zip-extract.ts; not exported from the package index.
 */
import { readlink, realpath } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { CuttleError } from './errors.js';

/** Realpath checks run this many at a time. */
const VERIFY_CONCURRENCY = 16;

/**
 * Checks that everything created resolves, through the file system, to the root or below it.
 * A symlink that dangles (points to a path the package does not contain) is checked by
 * resolving its target from the real location of its folder.
 */
export async function assertCreatedInside(root: string, paths: readonly string[]): Promise<void> {
  const realRoot = await realpath(root);
  const inside = (real: string): boolean => real === realRoot || real.startsWith(realRoot + sep);
  const check = async (path: string): Promise<void> => {
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
  };
  await forEachAtMost(VERIFY_CONCURRENCY, paths, undefined, check);
}

/**
 * Runs `task` over `items`, at most `limit` at a time, in order. The first failure (or the
 * caller's abort) stops the others through the signal each task gets, and this waits until
 * every started task has settled before it rethrows: nothing still writes when the caller
 * cleans up.
 */
export async function forEachAtMost<T>(
  limit: number,
  items: readonly T[],
  signal: AbortSignal | undefined,
  task: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let failure: { error: unknown } | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const item = items[next++] as T;
      try {
        combined.throwIfAborted();
        await task(item, combined);
      } catch (error) {
        failure ??= { error };
        stop.abort(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

function escaped(root: string, path: string, reason: string): CuttleError {
  const entry = path.startsWith(root + sep) ? path.slice(root.length + 1).split(sep).join('/') : path;
  return new CuttleError('unsafe-zip-entry', `The extracted ${JSON.stringify(entry)} resolves outside the target folder.`, { entry, reason });
}

export function errnoCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
