import { cp, lstat, mkdir, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { RELEASES_DIR, installDirTemps, type AppLayout } from './app-paths.js';

/**
 * Points `current` at releases/<folder> atomically: a new relative link is made beside it and
 * renamed over it, so that `current` is always the old release or the new one.
 */
export async function switchCurrent(layout: AppLayout, folder: string): Promise<void> {
  await rm(layout.currentTemp, { force: true });
  await symlink(`${RELEASES_DIR}/${folder}`, layout.currentTemp);
  try {
    await rename(layout.currentTemp, layout.current);
  } catch (error) {
    await rm(layout.currentTemp, { force: true }).catch(() => {});
    throw error;
  }
}

/**
 * Makes the (empty) temp sibling that the release is copied into. Called before app.json records
 * the switch: after a crash, a temp sibling that still exists means the swap never happened.
 */
export async function prepareInstallDir(installDir: string): Promise<void> {
  const { fresh, old } = installDirTemps(installDir);
  await mkdir(path.dirname(installDir), { recursive: true });
  await rm(fresh, { recursive: true, force: true });
  await rm(old, { recursive: true, force: true });
  await mkdir(fresh, { mode: 0o755 });
}

/**
 * Replaces the contents of installDir with the release: copied into the temp sibling, the old
 * folder renamed aside, the copy renamed into place, the old one removed. A failure before the
 * last rename leaves the old contents where they were.
 */
export async function replaceInstallDir(releaseDir: string, installDir: string): Promise<{ oldRemoved: boolean }> {
  const { fresh, old } = installDirTemps(installDir);
  try {
    await cp(releaseDir, fresh, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, force: false, errorOnExist: true });
  } catch (error) {
    await rm(fresh, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
  const hadOld = (await lstat(installDir).catch(() => null)) !== null;
  if (hadOld) await rename(installDir, old);
  try {
    await rename(fresh, installDir);
  } catch (error) {
    if (hadOld) await rename(old, installDir).catch(() => {});
    await rm(fresh, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
  if (!hadOld) return { oldRemoved: true };
  try {
    await rm(old, { recursive: true, force: true });
    return { oldRemoved: true };
  } catch {
    return { oldRemoved: false };
  }
}

/** Removes what prepareInstallDir made when the switch does not happen. */
export async function discardInstallDirTemp(installDir: string): Promise<void> {
  await rm(installDirTemps(installDir).fresh, { recursive: true, force: true });
}
