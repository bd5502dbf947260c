import type { InstalledApp } from '@cuttle/shared';
import type { HomeLayout } from './app-paths.js';
import { findAppFolders } from './app-folders.js';
import { currentLinkFolder, currentRecord, readAppState } from './app-state.js';

/** The schema's limit on apps in one inventory. */
const MAX_APPS = 10_000;

/**
 * What is current on disk, one entry per app folder: the release `current` points at (for an
 * installDir app, the one last copied there), read from app.json and the link; release null when
 * nothing is current or app.json cannot be read.
 */
export async function listInstalledApps(home: HomeLayout): Promise<InstalledApp[]> {
  const apps: InstalledApp[] = [];
  for (const layout of (await findAppFolders(home)).slice(0, MAX_APPS)) {
    const read = await readAppState(layout);
    const state = read.ok ? read.state : null;
    const record = currentRecord(state, await currentLinkFolder(layout));
    apps.push({
      app: layout.ref,
      release: record?.release ?? null,
      packageId: record?.packageId ?? null,
      packageVersion: record?.packageVersion ?? null,
      deployedAt: record?.deployedAt ?? null,
    });
  }
  return apps;
}

/** SHA-256 of every package a kept (or pending) release of any app came from: the cache keeps them. */
export async function packagesInUse(home: HomeLayout): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const layout of await findAppFolders(home)) {
    const read = await readAppState(layout);
    if (!read.ok || read.state === null) continue;
    for (const record of read.state.releases) keep.add(record.sha256);
    if (read.state.pending !== null) keep.add(read.state.pending.record.sha256);
  }
  return keep;
}
