import type { Deployment, JobPhase, Release, Step, TaskState, TargetState } from '@cuttle/shared';
import type { Db } from '../db/open-database.js';
import type { DeploymentOutcome } from './rollback-choice.js';

/** A deployment with the release snapshot the runner deploys (kept even if the project is deleted). */
export interface DeploymentRecord extends Deployment {
  steps: Step[];
  packages: Release['packages'];
}

export interface TaskRecord {
  id: number;
  kind: 'deployment';
  description: string;
  state: TaskState;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  errorCode: string | null;
  error: string | null;
  cancelRequested: boolean;
}

export interface TargetRecord {
  machine: string;
  position: number;
  /** names of the release's steps that run on this machine, in process order */
  steps: string[];
  state: TargetState;
  step: string | null;
  phase: JobPhase | null;
  errorCode: string | null;
  error: string | null;
  bytesSent: number;
  startedAt: string | null;
  finishedAt: string | null;
}

export type TaskFields = Partial<Pick<TaskRecord, 'state' | 'startedAt' | 'finishedAt' | 'errorCode' | 'error'>>;
export type TargetFields = Partial<Pick<TargetRecord, 'state' | 'step' | 'phase' | 'errorCode' | 'error' | 'bytesSent' | 'startedAt' | 'finishedAt'>>;

export interface NewDeployment {
  description: string;
  project: string;
  release: string;
  environment: string;
  machines: string[] | null;
  skipOffline: boolean;
  rollbackFrom: string | null;
  steps: Step[];
  packages: Release['packages'];
  createdAt: string;
  createdBy: string | null;
  targets: Array<{ machine: string; steps: string[] }>;
}

/** The newest deployment of a project to an environment, with its task's state. */
export interface LatestDeployment {
  release: string;
  deploymentId: number;
  taskId: number;
  state: TaskState;
  createdAt: string;
  finishedAt: string | null;
}

/** The newest target row of a machine in a project's deployments to an environment. */
export interface LastAttempt {
  release: string;
  deploymentId: number;
  taskId: number;
  state: TargetState;
  error: string | null;
  at: string;
}

interface DeploymentRow {
  id: number;
  task_id: number;
  project: string;
  release: string;
  environment: string;
  machines: string | null;
  skip_offline: number;
  rollback_from: string | null;
  steps: string;
  packages: string;
  created_at: string;
  created_by: string | null;
}

interface TaskRow {
  id: number;
  kind: string;
  description: string;
  state: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error_code: string | null;
  error: string | null;
  cancel_requested: number;
}

interface TargetRow {
  machine: string;
  position: number;
  steps: string;
  state: string;
  step: string | null;
  phase: string | null;
  error_code: string | null;
  error: string | null;
  bytes_sent: number;
  started_at: string | null;
  finished_at: string | null;
}

const toDeployment = (row: DeploymentRow): DeploymentRecord => ({
  id: row.id,
  taskId: row.task_id,
  project: row.project,
  release: row.release,
  environment: row.environment,
  machines: row.machines === null ? null : (JSON.parse(row.machines) as string[]),
  skipOffline: row.skip_offline === 1,
  rollbackFrom: row.rollback_from,
  createdAt: row.created_at,
  createdBy: row.created_by,
  steps: JSON.parse(row.steps) as Step[],
  packages: JSON.parse(row.packages) as Release['packages'],
});

const toTask = (row: TaskRow): TaskRecord => ({
  id: row.id,
  kind: 'deployment',
  description: row.description,
  state: row.state as TaskState,
  createdAt: row.created_at,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  errorCode: row.error_code,
  error: row.error,
  cancelRequested: row.cancel_requested === 1,
});

const toTarget = (row: TargetRow): TargetRecord => ({
  machine: row.machine,
  position: row.position,
  steps: JSON.parse(row.steps) as string[],
  state: row.state as TargetState,
  step: row.step,
  phase: row.phase as JobPhase | null,
  errorCode: row.error_code,
  error: row.error,
  bytesSent: row.bytes_sent,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
});

const TASK_COLUMNS: Record<keyof TaskFields, string> = {
  state: 'state',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  errorCode: 'error_code',
  error: 'error',
};

const TARGET_COLUMNS: Record<keyof TargetFields, string> = {
  state: 'state',
  step: 'step',
  phase: 'phase',
  errorCode: 'error_code',
  error: 'error',
  bytesSent: 'bytes_sent',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
};

/** `SET a = ?, b = ?` and its values for the fields present. */
function assignments<F extends object>(fields: F, columns: Record<keyof F, string>): { sql: string; values: unknown[] } {
  const entries = (Object.keys(fields) as Array<keyof F>).filter((key) => fields[key] !== undefined);
  return { sql: entries.map((key) => `${columns[key]} = ?`).join(', '), values: entries.map((key) => fields[key]) };
}

/** Deployments, their tasks and the tasks' targets. */
export class DeploymentRepository {
  constructor(private readonly db: Db) {}

  /** Inserts the task (queued), the deployment and its targets (pending). */
  insert(deployment: NewDeployment): { deploymentId: number; taskId: number } {
    const taskId = Number(
      this.db
        .prepare("INSERT INTO tasks (kind, description, state, created_at) VALUES ('deployment', ?, 'queued', ?)")
        .run(deployment.description, deployment.createdAt).lastInsertRowid,
    );
    const deploymentId = Number(
      this.db
        .prepare(
          `INSERT INTO deployments (task_id, project, release, environment, machines, skip_offline, rollback_from, steps, packages, created_at, created_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          taskId,
          deployment.project,
          deployment.release,
          deployment.environment,
          deployment.machines === null ? null : JSON.stringify(deployment.machines),
          deployment.skipOffline ? 1 : 0,
          deployment.rollbackFrom,
          JSON.stringify(deployment.steps),
          JSON.stringify(deployment.packages),
          deployment.createdAt,
          deployment.createdBy,
        ).lastInsertRowid,
    );
    const insertTarget = this.db.prepare("INSERT INTO task_targets (task_id, machine, position, steps, state) VALUES (?, ?, ?, ?, 'pending')");
    deployment.targets.forEach((target, position) => insertTarget.run(taskId, target.machine, position, JSON.stringify(target.steps)));
    return { deploymentId, taskId };
  }

  findDeployment(id: number): DeploymentRecord | null {
    const row = this.db.prepare('SELECT * FROM deployments WHERE id = ?').get(id) as DeploymentRow | undefined;
    return row ? toDeployment(row) : null;
  }

  findDeploymentOfTask(taskId: number): DeploymentRecord | null {
    const row = this.db.prepare('SELECT * FROM deployments WHERE task_id = ?').get(taskId) as DeploymentRow | undefined;
    return row ? toDeployment(row) : null;
  }

  /** Newest first. */
  listDeployments(filter: { project?: string | undefined; environment?: string | undefined; limit: number }): DeploymentRecord[] {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (filter.project !== undefined) {
      where.push('project = ?');
      params.push(filter.project);
    }
    if (filter.environment !== undefined) {
      where.push('environment = ?');
      params.push(filter.environment);
    }
    const sql = `SELECT * FROM deployments${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, filter.limit) as DeploymentRow[]).map(toDeployment);
  }

  findTask(id: number): TaskRecord | null {
    const row = this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
    return row ? toTask(row) : null;
  }

  /** Newest first. */
  listTasks(filter: { state?: TaskState | undefined; limit: number }): TaskRecord[] {
    const rows =
      filter.state === undefined
        ? this.db.prepare('SELECT * FROM tasks ORDER BY id DESC LIMIT ?').all(filter.limit)
        : this.db.prepare('SELECT * FROM tasks WHERE state = ? ORDER BY id DESC LIMIT ?').all(filter.state, filter.limit);
    return (rows as TaskRow[]).map(toTask);
  }

  /** Ids of the tasks in these states, oldest first. */
  taskIdsInStates(states: readonly TaskState[]): number[] {
    const marks = states.map(() => '?').join(', ');
    return (this.db.prepare(`SELECT id FROM tasks WHERE state IN (${marks}) ORDER BY id`).all(...states) as Array<{ id: number }>).map((r) => r.id);
  }

  updateTask(id: number, fields: TaskFields): void {
    const { sql, values } = assignments(fields, TASK_COLUMNS);
    if (sql !== '') this.db.prepare(`UPDATE tasks SET ${sql} WHERE id = ?`).run(...values, id);
  }

  markCancelRequested(id: number): void {
    this.db.prepare('UPDATE tasks SET cancel_requested = 1 WHERE id = ?').run(id);
  }

  targets(taskId: number): TargetRecord[] {
    return (this.db.prepare('SELECT * FROM task_targets WHERE task_id = ? ORDER BY position').all(taskId) as TargetRow[]).map(toTarget);
  }

  updateTarget(taskId: number, machine: string, fields: TargetFields): void {
    const { sql, values } = assignments(fields, TARGET_COLUMNS);
    if (sql !== '') this.db.prepare(`UPDATE task_targets SET ${sql} WHERE task_id = ? AND machine = ?`).run(...values, taskId, machine);
  }

  /** Releases of the project's successful deployments to the environment, newest first (repeats kept). */
  successfulReleases(project: string, environment: string): string[] {
    return (
      this.db
        .prepare(
          `SELECT d.release FROM deployments d JOIN tasks t ON t.id = d.task_id
           WHERE d.project = ? AND d.environment = ? AND t.state = 'success' ORDER BY d.id DESC`,
        )
        .all(project, environment) as Array<{ release: string }>
    ).map((r) => r.release);
  }

  /** Every deployment of the project to the environment with its task's state and how many targets succeeded, newest first. */
  deploymentOutcomes(project: string, environment: string): DeploymentOutcome[] {
    const rows = this.db
      .prepare(
        `SELECT d.id, d.release, d.rollback_from, t.state,
                (SELECT COUNT(*) FROM task_targets tt WHERE tt.task_id = d.task_id AND tt.state = 'success') AS succeeded
         FROM deployments d JOIN tasks t ON t.id = d.task_id
         WHERE d.project = ? AND d.environment = ? ORDER BY d.id DESC`,
      )
      .all(project, environment) as Array<{ id: number; release: string; rollback_from: string | null; state: string; succeeded: number }>;
    return rows.map((r) => ({ id: r.id, release: r.release, rollbackFrom: r.rollback_from, state: r.state as TaskState, succeededTargets: r.succeeded }));
  }

  latestDeployment(project: string, environment: string): LatestDeployment | null {
    const row = this.db
      .prepare(
        `SELECT d.release, d.id AS deployment_id, d.task_id, t.state, d.created_at, t.finished_at
         FROM deployments d JOIN tasks t ON t.id = d.task_id
         WHERE d.project = ? AND d.environment = ? ORDER BY d.id DESC LIMIT 1`,
      )
      .get(project, environment) as
      | { release: string; deployment_id: number; task_id: number; state: string; created_at: string; finished_at: string | null }
      | undefined;
    return row
      ? { release: row.release, deploymentId: row.deployment_id, taskId: row.task_id, state: row.state as TaskState, createdAt: row.created_at, finishedAt: row.finished_at }
      : null;
  }

  lastAttempt(machine: string, project: string, environment: string): LastAttempt | null {
    const row = this.db
      .prepare(
        `SELECT d.release, d.id AS deployment_id, d.task_id, tt.state, tt.error, COALESCE(tt.finished_at, tt.started_at, d.created_at) AS at
         FROM task_targets tt JOIN deployments d ON d.task_id = tt.task_id
         WHERE tt.machine = ? AND d.project = ? AND d.environment = ? ORDER BY tt.task_id DESC LIMIT 1`,
      )
      .get(machine, project, environment) as
      | { release: string; deployment_id: number; task_id: number; state: string; error: string | null; at: string }
      | undefined;
    return row
      ? { release: row.release, deploymentId: row.deployment_id, taskId: row.task_id, state: row.state as TargetState, error: row.error, at: row.at }
      : null;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
