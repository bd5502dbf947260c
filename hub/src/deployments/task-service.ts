import { CuttleError, FINISHED_TASK_STATES, type Task, type TaskLogEntry, type TaskState, type TaskTarget } from '@cuttle/shared';
import type { DeploymentRepository, TargetRecord, TaskRecord } from './deployment-repository.js';
import { DEFAULT_LIST_LIMIT, toDeployment } from './deployment-service.js';
import type { TaskLog } from './task-log.js';
import type { TaskRunner } from './task-runner.js';

const toTarget = (record: TargetRecord): TaskTarget => ({
  machine: record.machine,
  state: record.state,
  step: record.step,
  phase: record.phase,
  errorCode: record.errorCode,
  error: record.error,
  bytesSent: record.bytesSent,
  startedAt: record.startedAt,
  finishedAt: record.finishedAt,
});

/** Where a follow sends the log: a page at a time, and only when the previous page is taken. */
export interface LogSink {
  /** Sends one page; a returned promise means "full": the next page waits until it settles. */
  write(entries: TaskLogEntry[]): void | Promise<void>;
}

/** Lines a follow reads from the database at a time. */
export const FOLLOW_PAGE_LINES = 1000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tasks as the API shows them: state, targets, log; and cancelling them. */
export class TaskService {
  constructor(
    private readonly repo: DeploymentRepository,
    private readonly runner: TaskRunner,
    private readonly log: TaskLog,
  ) {}

  get(id: number): Task {
    return this.toTask(this.require(id));
  }

  /** Newest first. */
  list(filter: { state?: TaskState | undefined; limit?: number | undefined }): Task[] {
    return this.repo.listTasks({ state: filter.state, limit: filter.limit ?? DEFAULT_LIST_LIMIT }).map((task) => this.toTask(task));
  }

  cancel(id: number, by: string | null): Task {
    return this.toTask(this.runner.cancel(id, by));
  }

  /** Stored lines after `since`, oldest first. */
  readLog(id: number, since: number, limit: number): TaskLogEntry[] {
    this.require(id);
    return this.log.read(id, since, limit);
  }

  /**
   * Sends the lines after `since`, then each new one, until the task ends (and its last line is
   * sent) or `signal` aborts. Pull-based: it reads a page from the database only when the sink has
   * taken the previous one, and yields to the event loop between pages; a new line only wakes it
   * up to read on from the last number it sent. So a slow client costs one page of memory, and
   * every line goes out once, in order. Throws task-not-found at once for an unknown task.
   */
  followLog(id: number, since: number, sink: LogSink, signal?: AbortSignal, pageSize = FOLLOW_PAGE_LINES): Promise<void> {
    this.require(id);
    let ended = false;
    let wake: (() => void) | null = null;
    const rouse = () => {
      const resolve = wake;
      wake = null;
      resolve?.();
    };
    const unsubscribe = this.log.subscribe(id, {
      onEntries: rouse,
      onEnd: () => {
        ended = true;
        rouse();
      },
    });
    // a task that has already ended (or that no runner will ever end) stops once its log is sent
    const task = this.require(id);
    if (FINISHED_TASK_STATES.includes(task.state) || !this.runner.isActive(id)) ended = true;
    signal?.addEventListener('abort', rouse, { once: true });

    const pump = async () => {
      let last = since;
      while (!signal?.aborted) {
        // the end is noted before the read: every line of an ended task is stored before its end
        const endedBefore = ended;
        const page = this.log.read(id, last, pageSize);
        if (page.length > 0) {
          last = page.at(-1)!.seq;
          await sink.write(page);
          await nextTurn();
          continue;
        }
        if (endedBefore) return;
        // caught up: sleep until a new line, the end or the abort (nothing runs between the read and here)
        await new Promise<void>((resolve) => (wake = resolve));
      }
    };
    return pump().finally(() => {
      unsubscribe();
      signal?.removeEventListener('abort', rouse);
    });
  }

  private require(id: number): TaskRecord {
    const task = this.repo.findTask(id);
    if (!task) throw new CuttleError('task-not-found', `No task has id ${id}.`, { id });
    return task;
  }

  private toTask(task: TaskRecord): Task {
    const deployment = this.repo.findDeploymentOfTask(task.id);
    if (!deployment) throw new Error(`task ${task.id} has no deployment`);
    return { ...task, deployment: toDeployment(deployment), targets: this.repo.targets(task.id).map(toTarget) };
  }
}
