import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { AppRefSchema, type AppRef } from '@cuttle/shared';
import { APP_STATE_FILE, RELEASES_DIR, SLOTS_DIR, appLayoutAt, type AppLayout, type HomeLayout } from './app-paths.js';

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
}

async function isAppFolder(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.includes(APP_STATE_FILE) || names.includes(RELEASES_DIR);
}

/**
 * Every app folder under `<home>/apps`: `<project>/<environment>` and
 * `<project>/<environment>/steps/<slot>` that hold an app.json or a releases folder. The names
 * come from the path; folders whose names no job could have made are left out.
 */
export async function findAppFolders(home: HomeLayout): Promise<AppLayout[]> {
  const found: AppLayout[] = [];
  const add = (dir: string, ref: AppRef): void => {
    const parsed = AppRefSchema.safeParse(ref);
    if (parsed.success) found.push(appLayoutAt(dir, parsed.data));
  };
  for (const project of (await subfolders(home.apps)).sort()) {
    const projectDir = path.join(home.apps, project);
    for (const environment of (await subfolders(projectDir)).sort()) {
      const envDir = path.join(projectDir, environment);
      if (await isAppFolder(envDir)) add(envDir, { project, environment, slot: null });
      const slotsDir = path.join(envDir, SLOTS_DIR);
      for (const slot of (await subfolders(slotsDir)).sort()) {
        const slotDir = path.join(slotsDir, slot);
        if (await isAppFolder(slotDir)) add(slotDir, { project, environment, slot });
      }
    }
  }
  return found;
}
