import { CuttleError, FINISHED_TASK_STATES, type Task, type TaskLogEntry, type TaskState, type TaskTarget } from '@cuttle/shared';
import type { DeploymentRepository, TargetRecord, TaskRecord } from './deployment-repository.js';
import { DEFAULT_LIST_LIMIT, toDeployment } from './deployment-service.js';
import type { LogSubscriber, TaskLog } from './task-log.js';
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

/** A follower of a task's log: what it has been sent so far, and how it ends. */
export interface LogFollower {
  /** Lines after `since` stored so far, in pages of at most `pageSize`, then every new one as it is stored. */
  onEntries(entries: TaskLogEntry[]): void;
  onEnd(): void;
}

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
   * Sends the stored lines after `since` and then each new line as it is stored, until the task
   * ends. Subscribing and reading the stored part happen in one synchronous stretch, and lines
   * are numbered, so no line is lost or sent twice across the boundary. Returns the unsubscribe.
   */
  followLog(id: number, since: number, follower: LogFollower, pageSize = 1000): () => void {
    this.require(id);
    let last = since;
    let live = false;
    const buffered: TaskLogEntry[] = [];
    let ended = false;
    const subscriber: LogSubscriber = {
      onEntries: (entries) => {
        if (!live) {
          buffered.push(...entries);
          return;
        }
        const fresh = entries.filter((e) => e.seq > last);
        if (fresh.length === 0) return;
        last = fresh.at(-1)!.seq;
        follower.onEntries(fresh);
      },
      onEnd: () => {
        if (ended) return;
        ended = true;
        follower.onEnd();
      },
    };
    const unsubscribe = this.log.subscribe(id, subscriber);
    for (;;) {
      const page = this.log.read(id, last, pageSize);
      if (page.length === 0) break;
      last = page.at(-1)!.seq;
      follower.onEntries(page);
    }
    live = true;
    subscriber.onEntries(buffered.splice(0));
    // a task that has already ended (or that no runner will ever end) stops the follow now
    const task = this.require(id);
    if (FINISHED_TASK_STATES.includes(task.state) || !this.runner.isActive(id)) {
      unsubscribe();
      subscriber.onEnd();
    }
    return unsubscribe;
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
