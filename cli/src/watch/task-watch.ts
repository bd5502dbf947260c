import { FINISHED_TASK_STATES, type Task, type TaskLogEntry } from '@cuttle/shared';
import type { Io } from '../context.js';
import type { HubClient } from '../hub-client.js';
import { advance, readLogToEnd, type LogCursor } from './log-reader.js';
import { DEFAULT_WATCH_TIMING, Liveness, Waker, backoffMs, isTransient, sleep, type WatchTiming } from './retry.js';

/** What a wait reports as it goes; called in the order things are learnt. */
export interface WatchListener {
  /** Each log entry once, in sequence order. */
  onLog(entry: TaskLogEntry): void;
  /** Each answer to a poll of the task (`previous`: the answer before, if any). */
  onTask(task: Task, previous: Task | undefined): void;
}

export type WatchEnd =
  | { kind: 'finished'; task: Task }
  /** the wait limit passed, or the user pressed Ctrl-C: the task goes on */
  | { kind: 'timeout' | 'interrupted'; task: Task | undefined };

export interface WatchRequest {
  client: HubClient;
  io: Io;
  taskId: number;
  listener: WatchListener;
  /** Start after this log entry (0: from the start). */
  since?: number;
  /** Stop waiting after this long (none: until the task ends). */
  limitMs?: number;
  /** Ctrl-C: stop waiting. */
  interrupt?: AbortSignal;
  timing?: Partial<WatchTiming>;
}

/**
 * Waits for a task to end while streaming its log: the log is followed (`follow=true`, NDJSON)
 * and the task is polled for its state and targets. A follow that breaks is opened again with
 * `since=` the last entry received, so that no line is lost or shown twice; requests that fail
 * are retried until the hub has been silent for the client's timeout (then exit 3). Once the task
 * has ended, the log stream gets `drainMs` to end by itself before the rest is fetched at once.
 */
export async function watchTask(request: WatchRequest): Promise<WatchEnd> {
  const { io, taskId, listener } = request;
  const timing: WatchTiming = { ...DEFAULT_WATCH_TIMING, ...request.timing };
  const stop = new AbortController();
  let reason: 'timeout' | 'interrupted' | undefined;
  const halt = (why: 'timeout' | 'interrupted'): void => {
    reason ??= why;
    stop.abort();
  };
  const onInterrupt = (): void => halt('interrupted');
  if (request.interrupt?.aborted === true) onInterrupt();
  request.interrupt?.addEventListener('abort', onInterrupt, { once: true });
  const deadline = request.limitMs === undefined ? undefined : setTimeout(() => halt('timeout'), request.limitMs);

  const client = request.client.derive({ signal: stop.signal });
  const live = new Liveness(io, client.timeoutMs, `waiting for task ${taskId}`);
  const cursor: LogCursor = { lastSeq: request.since ?? 0 };
  const waker = new Waker();
  /** Ends the follow once the task has ended and the log had its time to drain. */
  const logStop = new AbortController();
  const logSignal = AbortSignal.any([stop.signal, logStop.signal]);
  let task: Task | undefined;
  let finished = false;
  let logError: unknown;

  const onEntry = (entry: TaskLogEntry): void => listener.onLog(entry);

  async function followLog(): Promise<void> {
    let attempt = 0;
    let quickEnds = 0;
    while (!logSignal.aborted) {
      try {
        await client.readTaskLog(taskId, {
          since: cursor.lastSeq,
          follow: true,
          idleMs: timing.streamIdleMs,
          signal: logSignal,
          onOpen: () => {
            live.touch();
            attempt = 0;
          },
          onEntry: (entry) => {
            live.touch();
            quickEnds = 0;
            advance(cursor, entry, onEntry);
          },
        });
        // The hub ends a follow when the task ends: make sure by asking for the task now.
        if (finished) return;
        waker.wake();
        // A follow that keeps ending at once (the task has just ended, or the hub does not hold
        // the answer open) is opened again no faster than the poll.
        await sleep(Math.min(timing.pollIntervalMs, timing.retryBaseMs * 2 ** quickEnds++), logSignal);
      } catch (error) {
        if (logSignal.aborted) return;
        if (!isTransient(error)) throw error;
        live.check(error);
        await sleep(backoffMs(attempt++, timing), logSignal);
      }
    }
  }

  async function pollTask(): Promise<void> {
    let attempt = 0;
    while (!stop.signal.aborted) {
      try {
        const next = await client.getTask(taskId);
        live.touch();
        attempt = 0;
        const previous = task;
        task = next;
        listener.onTask(next, previous);
        if (FINISHED_TASK_STATES.includes(next.state)) {
          finished = true;
          return;
        }
        await waker.sleep(timing.pollIntervalMs, stop.signal);
      } catch (error) {
        if (stop.signal.aborted) return;
        if (!isTransient(error)) throw error;
        live.check(error);
        await sleep(backoffMs(attempt++, timing), stop.signal);
      }
    }
  }

  const logDone = followLog().catch((error: unknown) => {
    logError = error;
    stop.abort();
  });
  try {
    await pollTask();
    if (logError !== undefined) throw logError;
    if (!finished || task === undefined) return { kind: reason ?? 'interrupted', task };
    // The outcome is known: the wait limit no longer applies.
    clearTimeout(deadline);
    const drainWait = new AbortController();
    const drained = await Promise.race([logDone.then(() => true), sleep(timing.drainMs, AbortSignal.any([stop.signal, drainWait.signal])).then(() => false)]);
    drainWait.abort();
    if (!drained) {
      logStop.abort();
      await logDone;
      if (!stop.signal.aborted) await readLogToEnd({ client, taskId, cursor, onEntry, live, timing, signal: stop.signal });
    }
    if (logError !== undefined) throw logError;
    return { kind: 'finished', task };
  } finally {
    clearTimeout(deadline);
    request.interrupt?.removeEventListener('abort', onInterrupt);
    stop.abort();
    await logDone;
  }
}
