import { lstat, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log/logger.js';
import { APP_STATE_FILE, installDirTemps, type AppLayout, type HomeLayout } from './app-paths.js';
import { findAppFolders } from './app-folders.js';
import { currentLinkFolder, readAppState, writeAppState, type AppState } from './app-state.js';
import type { LeftoverScript } from './script-records.js';

export interface RecoveryReport {
  /** scripts an earlier run of the tentacle left running, killed */
  killedScripts: LeftoverScript[];
  /** release folders removed because no app.json recorded them */
  removedFolders: string[];
  /** apps whose interrupted switch was finished (promoted) or undone (dropped) */
  settled: Array<{ app: string; outcome: 'promoted' | 'dropped' }>;
}

const exists = async (file: string): Promise<boolean> => (await lstat(file).catch(() => null)) !== null;

/**
 * Start-up clean-up, before the tentacle connects. A deployment interrupted by a crash or kill -9
 * can leave a release folder that app.json does not record, a temp `current` link, temp copies
 * beside an installDir, an app.json temp file, or a recorded switch (`pending`). Recovery finishes
 * a switch whose atomic step happened (the link points at the new release, or the installDir copy
 * was renamed in) and undoes any other; then it removes every release folder that is neither
 * recorded nor current. `current` therefore never points at a half-written release. Apps whose
 * app.json is damaged are left untouched. The scripts of the interrupted deployments must have been
 * killed before (killLeftoverScripts), or they would go on writing into the folders cleaned here.
 */
export async function recoverApps(home: HomeLayout, log: Logger): Promise<Omit<RecoveryReport, 'killedScripts'>> {
  const report: Omit<RecoveryReport, 'killedScripts'> = { removedFolders: [], settled: [] };
  for (const layout of await findAppFolders(home)) {
    try {
      await recoverApp(layout, log, report);
    } catch (error) {
      log.error('cannot recover an app folder', { app: layout.key, err: error });
    }
  }
  // run-script jobs' folders never outlive their job
  await rm(home.work, { recursive: true, force: true }).catch((error: unknown) => log.warn('cannot clear the work folder', { err: error }));
  return report;
}

async function recoverApp(layout: AppLayout, log: Logger, report: Omit<RecoveryReport, 'killedScripts'>): Promise<void> {
  const read = await readAppState(layout);
  if (!read.ok) {
    log.warn('app.json is damaged; leaving the app folder as it is', { app: layout.key, problem: read.problem });
    return;
  }
  await rm(layout.currentTemp, { force: true });
  for (const name of await readdir(layout.dir).catch(() => [] as string[])) {
    if (name.startsWith(`${APP_STATE_FILE}.`) && name.endsWith('.tmp')) await rm(path.join(layout.dir, name), { force: true });
  }
  const linked = await currentLinkFolder(layout);
  let state = read.state;
  if (state?.pending) {
    const outcome = await settlePending(state, linked);
    state = outcome.state;
    report.settled.push({ app: layout.key, outcome: outcome.outcome });
    log.warn(outcome.outcome === 'promoted' ? 'finished the switch of an interrupted deployment' : 'undid the switch of an interrupted deployment', {
      app: layout.key,
      release: read.state?.pending?.record.release,
    });
    await writeAppState(layout, state);
  }
  const recorded = new Set((state?.releases ?? []).map((r) => r.folder));
  if (linked !== null) recorded.add(linked);
  for (const entry of await readdir(layout.releases, { withFileTypes: true }).catch(() => [])) {
    if (recorded.has(entry.name)) continue;
    const dir = path.join(layout.releases, entry.name);
    await rm(dir, { recursive: true, force: true });
    report.removedFolders.push(dir);
    log.warn('removed a release folder left by an interrupted deployment', { app: layout.key, folder: entry.name });
  }
}

async function settlePending(state: AppState, linked: string | null): Promise<{ state: AppState; outcome: 'promoted' | 'dropped' }> {
  const pending = state.pending;
  if (pending === null) return { state, outcome: 'dropped' };
  const promote = (): { state: AppState; outcome: 'promoted' } => ({
    state: {
      ...state,
      releases: [...state.releases.filter((r) => r.folder !== pending.record.folder), pending.record],
      current: pending.record.folder,
      installDir: pending.installDir,
      pending: null,
    },
    outcome: 'promoted',
  });
  const drop = { state: { ...state, pending: null }, outcome: 'dropped' as const };
  if (pending.installDir === null) return linked === pending.record.folder ? promote() : drop;

  const installDir = pending.installDir;
  const { fresh, old } = installDirTemps(installDir);
  if (await exists(fresh)) {
    // the copy was never renamed in: put the old contents back if they were moved aside
    if (!(await exists(installDir)) && (await exists(old))) await rename(old, installDir);
    await rm(fresh, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
    return drop;
  }
  await rm(old, { recursive: true, force: true });
  return promote();
}
