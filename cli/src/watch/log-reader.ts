import type { TaskLogEntry } from '@cuttle/shared';
import type { HubClient } from '../hub-client.js';
import { Liveness, backoffMs, isTransient, sleep, type WatchTiming } from './retry.js';

/** Where a reader of a task log stands: the sequence number of the last entry it handed on. */
export interface LogCursor {
  lastSeq: number;
}

/**
 * Hands on an entry only when it is newer than the cursor, then moves the cursor. After a
 * reconnect with `since=` the hub may repeat the entry it resumed from: it is dropped here.
 */
export function advance(cursor: LogCursor, entry: TaskLogEntry, onEntry: (entry: TaskLogEntry) => void): void {
  if (entry.seq <= cursor.lastSeq) return;
  cursor.lastSeq = entry.seq;
  onEntry(entry);
}

export interface ReadLogRequest {
  client: HubClient;
  taskId: number;
  cursor: LogCursor;
  onEntry(entry: TaskLogEntry): void;
  live: Liveness;
  timing: WatchTiming;
  /** Stops reading quietly (the caller knows why). */
  signal: AbortSignal;
}

/**
 * Reads the log from the cursor to its current end (no follow). A connection that breaks is
 * opened again from the last entry received, until the hub has been silent for the liveness limit.
 */
export async function readLogToEnd(request: ReadLogRequest): Promise<void> {
  const { client, taskId, cursor, live, timing, signal } = request;
  for (let attempt = 0; !signal.aborted; ) {
    try {
      await client.readTaskLog(taskId, {
        since: cursor.lastSeq,
        follow: false,
        signal,
        onOpen: () => {
          live.touch();
          attempt = 0;
        },
        onEntry: (entry) => advance(cursor, entry, request.onEntry),
      });
      return;
    } catch (error) {
      if (signal.aborted) return;
      if (!isTransient(error)) throw error;
      live.check(error);
      await sleep(backoffMs(attempt++, timing), signal);
    }
  }
}
