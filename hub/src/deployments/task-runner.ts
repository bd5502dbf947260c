import type { Logger } from 'pino';
import { CuttleError, FINISHED_TASK_STATES, type TaskState } from '@cuttle/shared';
import type { Clock } from '../clock.js';
import type { DeploymentRecord, DeploymentRepository, TaskRecord } from './deployment-repository.js';
import type { ReleaseHistoryRepository } from './release-history-repository.js';
import type { MachineProjectLocks, LockBlocker, LockOwner } from './machine-project-locks.js';
import type { TaskLog } from './task-log.js';
import type { TaskLogLimits } from './task-log-limits.js';
import type { TentacleJobs } from './tentacle-jobs.js';
import type { DeploymentVariables } from './task-variables.js';
import { TargetExecution } from './target-execution.js';
import { describeStep, failureSummary } from './task-messages.js';
import { stepParallelism } from './job-builder.js';

export interface TaskRunnerDeps {
  repo: DeploymentRepository;
  history: ReleaseHistoryRepository;
  log: TaskLog;
  jobs: TentacleJobs;
  locks: MachineProjectLocks;
  clock: Clock;
  logger: Logger;
  /** the release's variables for each job; without it jobs carry none */
  variables?: DeploymentVariables;
  /** how much output per target the task log keeps; TASK_LOG_LIMITS without it */
  logLimits?: TaskLogLimits;
}

interface ActiveTask {
  controller: AbortController;
  /** after a hub restart: how long the task first waits for its machines to reconnect */
  reconnectWaitMs: number;
  /** set once the task's end is stored (by the run, or by a cancel while queued or waiting) */
  settled: boolean;
  done: Promise<void>;
}

export const INTERRUPTED_MESSAGE = 'interrupted by hub restart';
const RECONNECT_POLL_MS = 250;

/**
 * The task engine: runs each deployment task in-process, step by step, target by target,
 * recording every state change as it happens. One runner per hub.
 */
export class TaskRunner {
  private readonly active = new Map<number, ActiveTask>();
  private stopped = false;

  constructor(private readonly deps: TaskRunnerDeps) {}

  /** Runs a queued task (on the next turn of the event loop, so that its creator answers first). */
  start(taskId: number, reconnectWaitMs = 0): void {
    if (this.stopped || this.active.has(taskId)) return;
    const task: ActiveTask = { controller: new AbortController(), reconnectWaitMs, settled: false, done: Promise.resolve() };
    task.done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.run(taskId, task))
      .catch((error: unknown) => {
        this.deps.logger.error({ err: error, taskId }, 'deployment task failed unexpectedly');
        if (!this.stopped && !task.settled) this.guard(() => this.finishUnexpected(taskId, error));
      })
      .finally(() => {
        this.active.delete(taskId);
        if (!this.stopped) this.deps.log.end(taskId);
      });
    this.active.set(taskId, task);
  }

  /**
   * Cancels a task: a queued or waiting one ends `cancelled` at once; a running one has its jobs
   * aborted and ends when they do. Returns the task as it is now.
   */
  cancel(taskId: number, by: string | null): TaskRecord {
    const { repo, log } = this.deps;
    const task = repo.findTask(taskId);
    if (!task) throw new CuttleError('task-not-found', `No task has id ${taskId}.`, { id: taskId });
    if (FINISHED_TASK_STATES.includes(task.state)) {
      throw new CuttleError('task-finished', `Task ${taskId} has finished already (${task.state}).`, { id: taskId, state: task.state });
    }
    const active = this.active.get(taskId);
    const who = by === null ? '' : ` by ${by}`;
    if (task.state === 'running' && active) {
      repo.markCancelRequested(taskId);
      log.hub(taskId, `Cancel requested${who}: stopping the running jobs`, 'warn');
      active.controller.abort();
      return this.requireTask(taskId);
    }
    // queued, waiting, or left without a runner: it ends here and now
    const now = this.now();
    repo.transaction(() => {
      repo.markCancelRequested(taskId);
      for (const target of repo.targets(taskId)) {
        if (['pending', 'waiting', 'running'].includes(target.state)) {
          repo.updateTarget(taskId, target.machine, { state: 'cancelled', errorCode: 'cancelled', error: `cancelled${who} before it ran`, finishedAt: now });
        }
      }
      repo.updateTask(taskId, { state: 'cancelled', finishedAt: now, errorCode: 'cancelled', error: `cancelled${who}` });
    });
    log.hub(taskId, `Cancelled${who}`, 'warn');
    if (active) {
      active.settled = true;
      active.controller.abort();
    } else {
      log.end(taskId);
    }
    return this.requireTask(taskId);
  }

  /**
   * At hub start: tasks left running by the previous process failed ("interrupted by hub
   * restart"); tasks that were only waiting for a lock never ran a job, so they are queued again.
   * Queued ones run now, oldest first, each first giving its machines up to `reconnectWaitMs` to
   * reconnect (tentacles come back a moment after their hub).
   */
  recover(reconnectWaitMs = 0): { interrupted: number[]; requeued: number[]; started: number[] } {
    const { repo, log } = this.deps;
    const interrupted = repo.taskIdsInStates(['running']);
    const requeued = repo.taskIdsInStates(['waiting']);
    const now = this.now();
    for (const taskId of interrupted) {
      repo.transaction(() => {
        for (const target of repo.targets(taskId)) {
          if (target.state === 'running') {
            repo.updateTarget(taskId, target.machine, { state: 'failed', errorCode: 'interrupted', error: INTERRUPTED_MESSAGE, finishedAt: now });
          } else if (target.state === 'pending' || target.state === 'waiting') {
            repo.updateTarget(taskId, target.machine, { state: 'skipped', errorCode: 'interrupted', error: `not run: ${INTERRUPTED_MESSAGE}`, finishedAt: now });
          }
        }
        repo.updateTask(taskId, { state: 'failed', finishedAt: now, errorCode: 'interrupted', error: INTERRUPTED_MESSAGE });
        log.hub(taskId, `Failed: ${INTERRUPTED_MESSAGE}`, 'error');
      });
    }
    for (const taskId of requeued) {
      repo.transaction(() => {
        for (const target of repo.targets(taskId)) if (target.state === 'waiting') repo.updateTarget(taskId, target.machine, { state: 'pending' });
        repo.updateTask(taskId, { state: 'queued' });
        log.hub(taskId, 'The hub restarted while this task waited for its machines; queued again');
      });
    }
    const started = repo.taskIdsInStates(['queued']);
    for (const taskId of started) {
      if (repo.findTask(taskId)?.cancelRequested) this.cancel(taskId, null);
      else this.start(taskId, reconnectWaitMs);
    }
    return { interrupted, requeued, started };
  }

  /**
   * The hub is stopping: nothing more is recorded, so running and waiting tasks stay as they are
   * and the next start marks them interrupted, exactly as after a crash.
   */
  stop(): void {
    // Jobs are not cancelled: the tentacles abort them when their connections close.
    this.stopped = true;
    this.deps.log.close();
  }

  /** Resolves when the task's run is over (at once when it is not running here). For tests. */
  whenDone(taskId: number): Promise<void> {
    return this.active.get(taskId)?.done ?? Promise.resolve();
  }

  isActive(taskId: number): boolean {
    return this.active.has(taskId);
  }

  private async run(taskId: number, active: ActiveTask): Promise<void> {
    const { repo, locks } = this.deps;
    if (active.settled || this.stopped) return;
    const task = repo.findTask(taskId);
    const deployment = repo.findDeploymentOfTask(taskId);
    if (!task || !deployment || task.state !== 'queued') return;
    const owner: LockOwner = { taskId, deploymentId: deployment.id };
    const machines = repo.targets(taskId).map((t) => t.machine);
    if (active.reconnectWaitMs > 0) await this.waitForMachines(taskId, machines, active);
    if (active.settled || this.stopped) return;
    const acquired = await locks.acquire(owner, deployment.project, machines, active.controller.signal, (blockers) =>
      this.guard(() => this.onBlocked(taskId, deployment, blockers)),
    );
    if (!acquired || active.settled || this.stopped) {
      if (acquired) locks.release(owner);
      return;
    }
    try {
      await this.execute(task, deployment, active);
    } finally {
      locks.release(owner);
    }
  }

  /** Polls until every machine is online, the time is up or the task is cancelled. */
  private async waitForMachines(taskId: number, machines: readonly string[], active: ActiveTask): Promise<void> {
    const offline = () => machines.filter((m) => !this.deps.jobs.isOnline(m));
    if (offline().length === 0) return;
    this.deps.log.hub(taskId, `Waiting up to ${Math.round(active.reconnectWaitMs / 1000)} s for ${offline().join(', ')} to reconnect after the hub restart`);
    const deadline = performance.now() + active.reconnectWaitMs;
    const signal = active.controller.signal;
    while (!signal.aborted && !this.stopped && performance.now() < deadline && offline().length > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, RECONNECT_POLL_MS);
        signal.addEventListener('abort', done, { once: true });
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
      });
    }
  }

  private onBlocked(taskId: number, deployment: DeploymentRecord, blockers: LockBlocker[]): void {
    if (this.stopped) return;
    const { repo, log } = this.deps;
    const task = repo.findTask(taskId);
    if (!task || FINISHED_TASK_STATES.includes(task.state)) return;
    if (task.state !== 'waiting') {
      repo.transaction(() => {
        repo.updateTask(taskId, { state: 'waiting' });
        for (const target of repo.targets(taskId)) if (target.state === 'pending') repo.updateTarget(taskId, target.machine, { state: 'waiting' });
      });
    }
    const parts = blockers.map(
      (b) => `deployment ${b.owner.deploymentId} (task ${b.owner.taskId}), which ${b.holds ? 'is deploying' : 'waits first for'} ${deployment.project} on ${b.machines.join(', ')}`,
    );
    log.hub(taskId, `Waiting for ${parts.join('; and for ')}`, 'info');
  }

  private async execute(task: TaskRecord, deployment: DeploymentRecord, active: ActiveTask): Promise<void> {
    const { repo, log } = this.deps;
    const signal = active.controller.signal;
    const taskId = task.id;
    const startedAt = this.now();
    repo.transaction(() => {
      repo.updateTask(taskId, { state: 'running', startedAt });
      for (const target of repo.targets(taskId)) if (target.state === 'waiting') repo.updateTarget(taskId, target.machine, { state: 'pending' });
    });
    const targets = repo.targets(taskId);
    const rollback = deployment.rollbackFrom === null ? '' : ` (rollback from ${deployment.rollbackFrom})`;
    log.hub(taskId, `Deploying ${deployment.project} ${deployment.release} to ${deployment.environment}${rollback} on ${targets.map((t) => t.machine).join(', ')}`);

    const execution = new TargetExecution(this.deps, deployment, targets, signal, () => this.stopped);
    let failure: string | null = null;
    for (const [stepIndex, step] of deployment.steps.entries()) {
      if (signal.aborted || this.stopped) break;
      const machines = execution.machinesFor(step.name);
      if (machines.length === 0) {
        log.hub(taskId, `Step ${stepIndex + 1}/${deployment.steps.length} ${describeStep(step, deployment)}: no machine to run it on; skipped`);
        continue;
      }
      const parallelism = stepParallelism(step);
      log.hub(
        taskId,
        `Step ${stepIndex + 1}/${deployment.steps.length} ${describeStep(step, deployment)} on ${machines.join(', ')}` +
          (machines.length > parallelism ? `, ${parallelism} at a time` : ''),
      );
      const failed = await execution.runStep(stepIndex, machines, parallelism);
      if (failed.length > 0) {
        failure = failureSummary(step.name, machines.length, failed);
        break;
      }
    }
    if (this.stopped) return;

    const cancelled = signal.aborted && !execution.allSucceeded();
    const end = this.now();
    let state: TaskState;
    let errorCode: string | null = null;
    let error: string | null = null;
    if (cancelled) {
      state = 'cancelled';
      errorCode = 'cancelled';
      error = failure === null ? 'cancelled' : `cancelled; ${failure}`;
    } else if (failure !== null) {
      state = 'failed';
      errorCode = execution.firstFailureCode();
      error = failure;
    } else if (!execution.anySucceeded()) {
      state = 'failed';
      errorCode = 'machine-offline';
      error = 'no machine was deployed: every target was offline and skipped';
    } else {
      state = 'success';
    }
    repo.transaction(() => {
      execution.closeUnfinished(cancelled ? 'cancelled' : 'skipped', end);
      repo.updateTask(taskId, { state, finishedAt: end, errorCode, error });
    });
    active.settled = true;
    const counts = execution.counts();
    const summary = `${counts.success} succeeded, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.cancelled} cancelled`;
    if (state === 'success') log.hub(taskId, `Deployment succeeded (${summary})`);
    else log.hub(taskId, `Deployment ${state}: ${error ?? state} (${summary})`, 'error');
  }

  /** After an unexpected fault in the runner itself: the task fails with it rather than hanging. */
  private finishUnexpected(taskId: number, error: unknown): void {
    const { repo, log } = this.deps;
    const task = repo.findTask(taskId);
    if (!task || FINISHED_TASK_STATES.includes(task.state)) return;
    const now = this.now();
    const message = `the hub failed to run the task: ${error instanceof Error ? error.message : String(error)}`;
    repo.transaction(() => {
      for (const target of repo.targets(taskId)) {
        if (!['success', 'failed', 'skipped', 'cancelled'].includes(target.state)) {
          repo.updateTarget(taskId, target.machine, { state: 'failed', error: message, finishedAt: now });
        }
      }
      repo.updateTask(taskId, { state: 'failed', finishedAt: now, errorCode: 'internal', error: message });
    });
    log.hub(taskId, `Failed: ${message}`, 'error');
  }

  /** Runs a recording callback; a fault in it is logged, never thrown into the caller (locks, the gateway). */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.deps.logger.error({ err: error }, 'recording a deployment event failed');
    }
  }

  private requireTask(taskId: number): TaskRecord {
    const task = this.deps.repo.findTask(taskId);
    if (!task) throw new CuttleError('task-not-found', `No task has id ${taskId}.`, { id: taskId });
    return task;
  }

  private now(): string {
    return this.deps.clock().toISOString();
  }
}
