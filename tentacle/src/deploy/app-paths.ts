import path from 'node:path';
import type { AppRef } from '@cuttle/shared';

/**
 * Where things live in a tentacle's home:
 *   apps/<project>/<environment>/                 the app of a process's first deploy-package step
 *   apps/<project>/<environment>/steps/<slot>/    the app of any later deploy-package step
 *     releases/<folder>/    one extracted release per folder
 *     current               relative symlink to releases/<folder> (apps without installDir)
 *     app.json              what the tentacle knows about the app's releases
 *   packages/<sha256>.zip             the package cache
 *   packages/partial/<sha256>.part    partly received packages (a transfer resumes from them)
 *   work/<jobId>/, work/<jobId>.sh    a run-script job's folder and script, removed after
 *   work/running/<pid>.json           a record of each running script (see script-records.ts)
 */
export const APPS_DIR = 'apps';
export const SLOTS_DIR = 'steps';
export const RELEASES_DIR = 'releases';
export const CURRENT_LINK = 'current';
export const APP_STATE_FILE = 'app.json';
/** Under `work/`: records of running scripts. A run-script job cannot have this id. */
export const RUNNING_DIR = 'running';
/** The new `current` link is made under this name beside it, then renamed over it. */
export const CURRENT_LINK_TEMP = 'current.cuttle-new';

export interface HomeLayout {
  home: string;
  apps: string;
  packages: string;
  partial: string;
  work: string;
  running: string;
}

export function homeLayout(home: string): HomeLayout {
  const root = path.resolve(home);
  return {
    home: root,
    apps: path.join(root, APPS_DIR),
    packages: path.join(root, 'packages'),
    partial: path.join(root, 'packages', 'partial'),
    work: path.join(root, 'work'),
    running: path.join(root, 'work', RUNNING_DIR),
  };
}

export interface AppLayout {
  ref: AppRef;
  /** `project/environment[/steps/slot]`: names the app in logs and in locks */
  key: string;
  dir: string;
  releases: string;
  current: string;
  currentTemp: string;
  state: string;
}

export function appLayoutAt(dir: string, ref: AppRef): AppLayout {
  return {
    ref,
    key: ref.slot === null ? `${ref.project}/${ref.environment}` : `${ref.project}/${ref.environment}/${SLOTS_DIR}/${ref.slot}`,
    dir,
    releases: path.join(dir, RELEASES_DIR),
    current: path.join(dir, CURRENT_LINK),
    currentTemp: path.join(dir, CURRENT_LINK_TEMP),
    state: path.join(dir, APP_STATE_FILE),
  };
}

/** A name used as one folder name: no separators, no NUL, not "." or "..". */
export function segmentProblem(name: string, what: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return `${what} ${JSON.stringify(name)} cannot be a folder name`;
  if (name.includes('/') || name.includes('\0')) return `${what} ${JSON.stringify(name)} contains "/" or NUL`;
  return undefined;
}

/** The app folder of `ref`, or why it is refused (a name that would leave `<home>/apps`). */
export function appLayout(home: HomeLayout, ref: AppRef): AppLayout | string {
  const problem =
    segmentProblem(ref.project, 'the project') ??
    segmentProblem(ref.environment, 'the environment') ??
    (ref.slot === null ? undefined : segmentProblem(ref.slot, 'the step slot'));
  if (problem !== undefined) return problem;
  const parts = ref.slot === null ? [ref.project, ref.environment] : [ref.project, ref.environment, SLOTS_DIR, ref.slot];
  const dir = path.resolve(home.apps, ...parts);
  if (!dir.startsWith(home.apps + path.sep)) return `the app folder ${dir} would be outside ${home.apps}`;
  return appLayoutAt(dir, ref);
}

/**
 * Why an installDir is refused: it must be an absolute, normalized folder other than "/", and
 * neither inside the tentacle's home nor one of its parents (replacing its contents would
 * destroy the home).
 */
export function installDirProblem(home: HomeLayout, installDir: string): string | undefined {
  if (installDir.includes('\0')) return 'installDir contains NUL';
  if (!path.isAbsolute(installDir) || path.resolve(installDir) !== installDir) return `installDir ${JSON.stringify(installDir)} is not a normalized absolute path`;
  if (installDir === path.parse(installDir).root) return 'installDir cannot be the root folder';
  const inside = (child: string, parent: string): boolean => child === parent || child.startsWith(parent + path.sep);
  if (inside(installDir, home.home)) return `installDir ${installDir} is inside the tentacle's home ${home.home}`;
  if (inside(home.home, installDir)) return `installDir ${installDir} contains the tentacle's home ${home.home}`;
  return undefined;
}

/** The temp siblings of an installDir: the new copy, and the old contents while they are swapped. */
export function installDirTemps(installDir: string): { fresh: string; old: string } {
  const parent = path.dirname(installDir);
  const base = path.basename(installDir);
  return { fresh: path.join(parent, `.${base}.cuttle-new`), old: path.join(parent, `.${base}.cuttle-old`) };
}

/** The folder a `current` link points at: `releases/<folder>` gives `<folder>`; anything else null. */
export function folderOfLink(target: string): string | null {
  const prefix = `${RELEASES_DIR}/`;
  if (!target.startsWith(prefix)) return null;
  const folder = target.slice(prefix.length);
  return segmentProblem(folder, 'folder') === undefined ? folder : null;
}
