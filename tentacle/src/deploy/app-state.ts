import { readFile, readlink } from 'node:fs/promises';
import { z } from 'zod';
import { AppRefSchema } from '@cuttle/shared';
import { writeFileAtomic } from '../home/home-files.js';
import { folderOfLink, type AppLayout } from './app-paths.js';
import { errnoCode } from './job-failure.js';

/** One release the tentacle keeps in an app folder. */
export const ReleaseRecordSchema = z
  .object({
    release: z.string().min(1).max(128),
    packageId: z.string().min(1).max(128),
    packageVersion: z.string().min(1).max(128),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** the folder under releases/ */
    folder: z.string().min(1).max(200),
    deployedAt: z.string(),
    taskId: z.number().int().nonnegative(),
    deploymentId: z.number().int().nonnegative(),
  })
  .strict();
export type ReleaseRecord = z.infer<typeof ReleaseRecordSchema>;

/**
 * `app.json`: the kept releases (oldest first, the current one included), which one is current,
 * and the release being switched in right now. `pending` is written before `current` or the
 * installDir changes, so that after a crash recovery can tell a finished switch from one that
 * never happened.
 */
export const AppStateSchema = z
  .object({
    app: AppRefSchema,
    /** the folder of the current release; null when nothing is current */
    current: z.string().nullable(),
    /** the folder whose contents the current release was copied into, or null (the `current` link) */
    installDir: z.string().nullable(),
    releases: z.array(ReleaseRecordSchema),
    pending: z.object({ record: ReleaseRecordSchema, installDir: z.string().nullable() }).strict().nullable(),
  })
  .strict();
export type AppState = z.infer<typeof AppStateSchema>;

export type ReadState = { ok: true; state: AppState | null } | { ok: false; problem: string };

/** Reads app.json: null state when it does not exist, a problem when it is damaged. */
export async function readAppState(layout: AppLayout): Promise<ReadState> {
  let text: string;
  try {
    text = await readFile(layout.state, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { ok: true, state: null };
    return { ok: false, problem: `cannot read ${layout.state}: ${(error as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: `${layout.state} is not valid JSON` };
  }
  const parsed = AppStateSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: `${layout.state} is damaged: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  return { ok: true, state: parsed.data };
}

export function emptyAppState(layout: AppLayout): AppState {
  return { app: layout.ref, current: null, installDir: null, releases: [], pending: null };
}

/** Written to a temp file, synced and renamed: readers see the old state or the new one. */
export async function writeAppState(layout: AppLayout, state: AppState): Promise<void> {
  await writeFileAtomic(layout.state, `${JSON.stringify(state, null, 2)}\n`, 0o644);
}

/** The folder the `current` link points at; null when there is no link or it points elsewhere. */
export async function currentLinkFolder(layout: AppLayout): Promise<string | null> {
  try {
    return folderOfLink(await readlink(layout.current));
  } catch {
    return null;
  }
}

/** The record of the release that is current: the link's folder, or for installDir apps app.json's own word. */
export function currentRecord(state: AppState | null, linkFolder: string | null): ReleaseRecord | null {
  if (state === null) return null;
  const folder = state.installDir === null ? linkFolder : state.current;
  if (folder === null) return null;
  return state.releases.find((r) => r.folder === folder) ?? (state.pending?.record.folder === folder ? state.pending.record : null);
}
