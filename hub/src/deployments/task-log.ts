import type { LogStream, TaskLogEntry } from '@cuttle/shared';
import type { Clock } from '../clock.js';
import type { NewLogLine, TaskLogRepository } from './task-log-repository.js';

export interface LogSubscriber {
  /** New lines, in order, right after they are stored. */
  onEntries(entries: TaskLogEntry[]): void;
  /** The task ended (its last line is stored) or the hub is stopping; no call follows. */
  onEnd(): void;
}

/**
 * A task's log: every line is stored first, then handed to the live subscribers of that task.
 * Storing and notifying happen in the same synchronous call, so a reader that subscribes and
 * then reads the stored lines (also synchronously) sees each line exactly once.
 */
export class TaskLog {
  private readonly subscribers = new Map<number, Set<LogSubscriber>>();
  /** per running task: hides its sensitive values in every line before it is stored or streamed */
  private readonly masks = new Map<number, (text: string) => string>();
  private closed = false;

  constructor(
    private readonly repo: TaskLogRepository,
    private readonly clock: Clock,
  ) {}

  append(taskId: number, lines: readonly NewLogLine[]): void {
    if (this.closed) return;
    const mask = this.masks.get(taskId);
    const entries = this.repo.append(taskId, mask ? lines.map((line) => ({ ...line, text: mask(line.text) })) : lines);
    if (entries.length === 0) return;
    for (const subscriber of this.subscribers.get(taskId) ?? []) notify(() => subscriber.onEntries(entries));
  }

  /** One line of the hub's own, about the whole task (machine null) or one target. */
  hub(taskId: number, text: string, stream: LogStream = 'info', machine: string | null = null): void {
    this.append(taskId, [{ at: this.clock().toISOString(), machine, stream, text }]);
  }

  /** Masks the task's lines from now until its end (each line on its own: a value split across two lines is not recognised). */
  setMask(taskId: number, mask: (text: string) => string): void {
    this.masks.set(taskId, mask);
  }

  read(taskId: number, since: number, limit: number): TaskLogEntry[] {
    return this.repo.read(taskId, since, limit);
  }

  /** Returns the unsubscribe function. */
  subscribe(taskId: number, subscriber: LogSubscriber): () => void {
    let set = this.subscribers.get(taskId);
    if (!set) this.subscribers.set(taskId, (set = new Set()));
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && this.subscribers.get(taskId) === set) this.subscribers.delete(taskId);
    };
  }

  /** The task has ended: its followers get their end. */
  end(taskId: number): void {
    this.masks.delete(taskId);
    const set = this.subscribers.get(taskId);
    this.subscribers.delete(taskId);
    for (const subscriber of set ?? []) notify(() => subscriber.onEnd());
  }

  /** The hub is stopping: nothing more is written and every follower ends. */
  close(): void {
    this.closed = true;
    for (const taskId of [...this.subscribers.keys()]) this.end(taskId);
  }
}

/** A follower's fault (a response gone bad) never reaches the task that writes the log. */
function notify(call: () => void): void {
  try {
    call();
  } catch {
    // the follower is broken; it unsubscribes when its response closes
  }
}
