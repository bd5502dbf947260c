import { readdir } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { JobFailure } from '../job-failure.js';

/**
 * The regular files of a release, as paths relative to its root with `/` separators, sorted.
 * Symbolic links are not followed and not listed: configuration never reaches outside the release
 * through one (a link inside the release names a file that is listed under its own path anyway).
 */
export async function listReleaseFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(root, relative), { withFileTypes: true });
    for (const entry of entries) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) files.push(child);
    }
  };
  await walk('');
  return files.sort();
}

/** The files that any of `globs` matches (picomatch, dot files included). */
export function matchFiles(files: readonly string[], globs: readonly string[], what: string): string[] {
  if (globs.length === 0) return [];
  let isMatch: (file: string) => boolean;
  try {
    isMatch = picomatch([...globs], { dot: true });
  } catch (error) {
    throw new JobFailure('configuration-failed', `${what}: invalid pattern: ${(error as Error).message}`);
  }
  return files.filter((file) => isMatch(file));
}

/** The absolute path of a release-relative file. */
export function releasePath(root: string, file: string): string {
  return path.join(root, ...file.split('/'));
}
