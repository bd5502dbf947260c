// Runs that delete many files, and the runs after them. On ext4 without a journal, creating a file
// skips every free inode deleted in the last minute, or in the last six while its inode table block
// is still unwritten (the kernel's recently_deleted()): after a run deleted its 410,000 files, the
// next run's file creation scans past them and pays several times the CPU per file, in whichever
// phase lands on them, which skews the ratio either way. A run records when it deleted its files;
// the next one, on such a file system, waits until six minutes have passed since.
import { readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { blockDeviceFolder } from './settle-disk.mjs';

/** How long ext4 without a journal avoids an inode after deleting it (RECENTCY_MIN + RECENTCY_DIRTY). */
export const INODE_REST_MS = 6 * 60 * 1000;
/** Fewer deleted files than this (a small run's) are not worth the wait. */
export const WAIT_FROM_FILES = 20_000;
const MARKER = path.join(tmpdir(), 'cuttle-bench-deleted.json');

/**
 * Whether `dir` is on ext4 without a journal (the file systems where deleted inodes rest): its
 * device's kernel name from /sys/dev/block/<major>:<minor>, then /sys/fs/ext4/<name>/journal_task
 * (which says `<none>` without a journal, and is missing on other file systems); false where those
 * cannot be read.
 * @param {string} dir
 */
export async function skipsRecentlyDeletedInodes(dir) {
  try {
    const name = path.basename(await readlink(await blockDeviceFolder(dir)));
    const journal = await readFile(`/sys/fs/ext4/${name}/journal_task`, 'utf8');
    return journal.trim() === '<none>';
  } catch {
    return false;
  }
}

/**
 * Notes that this run has just deleted `files` files under `dir`. A small run's deletions do not
 * replace a large run's record that the next run still has to wait for.
 * @param {string} dir @param {number} files
 */
export async function recordDeletion(dir, files) {
  const last = await readMarker();
  if (files < WAIT_FROM_FILES && last !== undefined && last.files >= WAIT_FROM_FILES && Date.now() - last.at < INODE_REST_MS) return;
  await writeFile(MARKER, `${JSON.stringify({ at: Date.now(), dir, files })}\n`).catch(() => undefined);
}

/** The last run's record, if there is a readable one. @returns {Promise<{ at: number, dir: string, files: number } | undefined>} */
async function readMarker() {
  const last = await readFile(MARKER, 'utf8').then((text) => JSON.parse(text), () => undefined);
  return typeof last?.at === 'number' && typeof last.dir === 'string' && typeof last.files === 'number' ? last : undefined;
}

/**
 * Waits, when `dir` is on ext4 without a journal, until INODE_REST_MS have passed since an earlier
 * run recorded deleting at least WAIT_FROM_FILES files on the same file system.
 * @param {string} dir
 * @param {(message: string) => void} say
 * @returns {Promise<number>} milliseconds waited
 */
export async function waitForInodeRest(dir, say) {
  const last = await readMarker();
  if (last === undefined || last.files < WAIT_FROM_FILES) return 0;
  const left = last.at + INODE_REST_MS - Date.now();
  if (left <= 0 || left > INODE_REST_MS) return 0;
  const sameDevice = await Promise.all([stat(dir), stat(path.dirname(last.dir))]).then(([a, b]) => a.dev === b.dev, () => false);
  if (!sameDevice || !(await skipsRecentlyDeletedInodes(dir))) return 0;
  say(
    `waiting ${Math.ceil(left / 1000)} s: an earlier run deleted about ${last.files.toLocaleString('en-US')} files ` +
      `on this file system ${Math.round((Date.now() - last.at) / 1000)} s ago, and ext4 without a journal skips inodes deleted in the last six minutes ` +
      `when it creates files, which makes creating them cost several times the CPU (--no-wait starts at once)`,
  );
  await sleep(left);
  return left;
}
