import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log/logger.js';
import { groupAlive, processStartTime } from './process-identity.js';

/**
 * What a running script leaves in `<home>/work/running/<pid>.json` while it runs, so that a
 * tentacle killed without a chance to stop its scripts (kill -9, a crash) can end them at its next
 * start: the process group, and the leader's start time that tells it apart from a later process
 * with the same PID.
 */
export const ScriptRecordSchema = z
  .object({
    pid: z.number().int().positive(),
    pgid: z.number().int().positive(),
    /** processStartTime() of the leader at its start; null when nothing could tell it */
    startTime: z.string().min(1).nullable(),
    /** how logs name the script: "Deploy.sh", "the script" */
    script: z.string(),
    file: z.string(),
    jobId: z.string().nullable(),
    startedAt: z.string(),
  })
  .strict();
export type ScriptRecord = z.infer<typeof ScriptRecordSchema>;

/** How often a group that got SIGTERM is checked for having gone. */
const KILL_POLL_MS = 50;

/** The records of this tentacle's running scripts. */
export class ScriptRecords {
  private readonly files = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /**
   * Records a script that has just started; returns what removes the record once it ended.
   * Written synchronously, right after the spawn, so that the window in which a killed tentacle
   * leaves an unrecorded script is as short as it can be; atomically (temp file, rename), so that
   * recovery never reads half a record. Not synced: the record only matters while the machine
   * stays up (a power loss ends the scripts too). A record that cannot be written is only warned.
   */
  add(record: Omit<ScriptRecord, 'startTime' | 'startedAt'>): () => void {
    const file = path.join(this.dir, `${record.pid}.json`);
    const full: ScriptRecord = { ...record, startTime: processStartTime(record.pid), startedAt: new Date().toISOString() };
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileSync(tmp, `${JSON.stringify(full)}\n`, { flag: 'wx', mode: 0o600 });
      renameSync(tmp, file);
      this.files.add(file);
    } catch (error) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // a temp file that cannot be removed either is left; the script runs all the same
      }
      this.log.warn('cannot record a running script; a crash of the tentacle would leave it running', { script: record.script, pid: record.pid, err: error });
      return () => {};
    }
    return () => {
      if (!this.files.delete(file)) return;
      try {
        rmSync(file, { force: true });
      } catch (error) {
        this.log.warn('cannot remove the record of an ended script', { file, err: error });
      }
      this.removeDirIfEmpty();
    };
  }

  /** Removes every record at once (the tentacle is exiting and has killed its scripts). */
  clearSync(): void {
    for (const file of this.files) rmSync(file, { force: true });
    this.files.clear();
    this.removeDirIfEmpty();
  }

  /**
   * The folder exists only while scripts run. Synchronous like add(), so that a removal never
   * runs between add()'s mkdir and its write.
   */
  private removeDirIfEmpty(): void {
    if (this.files.size > 0) return;
    try {
      rmdirSync(this.dir);
    } catch {
      // not empty, or gone
    }
  }
}

export interface LeftoverScript {
  pid: number;
  script: string;
  jobId: string | null;
}

/**
 * Start-up: ends the scripts an earlier tentacle left running. For each record whose process still
 * exists with the recorded start time, the whole group gets SIGTERM and, when anything of it still
 * runs after `graceMs`, SIGKILL. A process whose start time differs is another one that reused the
 * PID and is never touched; a record without a start time cannot be checked and is only warned.
 * Every record is removed. Resolves with the scripts killed.
 */
export async function killLeftoverScripts(dir: string, log: Logger, graceMs: number): Promise<LeftoverScript[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const killed = await Promise.all(
    names.map(async (name): Promise<LeftoverScript | null> => {
      const file = path.join(dir, name);
      try {
        if (!name.endsWith('.json')) return null;
        const parsed = ScriptRecordSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
        if (!parsed.success) {
          log.warn('ignored a damaged record of a running script', { file });
          return null;
        }
        const record = parsed.data;
        const now = processStartTime(record.pid);
        if (now === null) return null; // it ended by itself
        if (record.startTime === null) {
          log.warn('a deploy script of an earlier run may still be running; its start time was not recorded, so it is left alone', { ...leftover(record) });
          return null;
        }
        if (now !== record.startTime) {
          log.debug('a recorded script has ended; its PID belongs to another process now', { ...leftover(record) });
          return null;
        }
        await killGroup(record.pgid, graceMs);
        log.warn('killed a deploy script left running by an earlier run of the tentacle', { ...leftover(record) });
        return leftover(record);
      } catch (error) {
        log.warn('cannot check a record of a running script', { file, err: error });
        return null;
      } finally {
        await rm(file, { force: true }).catch(() => {});
      }
    }),
  );
  return killed.filter((k): k is LeftoverScript => k !== null);
}

function leftover(record: ScriptRecord): LeftoverScript {
  return { pid: record.pid, script: record.script, jobId: record.jobId };
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

async function killGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  for (let waited = 0; waited < graceMs && groupAlive(pgid); waited += KILL_POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, KILL_POLL_MS));
  }
  // only while something of the group lives: its PGID cannot have been reused then
  if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
}
