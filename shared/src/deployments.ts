import { z } from 'zod';
import { LogStreamSchema, JobPhaseSchema } from './protocol-jobs.js';
import { MachineNameSchema } from './protocol.js';

/** Deployments, tasks, task logs and release history: HTTP bodies shared by hub and CLI. */

export const TASK_STATES = ['queued', 'waiting', 'running', 'success', 'failed', 'cancelled'] as const;
export const TaskStateSchema = z.enum(TASK_STATES);
export type TaskState = z.infer<typeof TaskStateSchema>;
export const FINISHED_TASK_STATES: readonly TaskState[] = ['success', 'failed', 'cancelled'];

/** A target is one machine of a deployment, across all the steps that run on it. */
export const TARGET_STATES = ['pending', 'waiting', 'running', 'success', 'failed', 'skipped', 'cancelled'] as const;
export const TargetStateSchema = z.enum(TARGET_STATES);
export type TargetState = z.infer<typeof TargetStateSchema>;

/** Parallelism of a deploy-package step when the step does not say. */
export const DEFAULT_STEP_PARALLELISM = 10;
/** Old releases a tentacle keeps per app when the step does not say. */
export const DEFAULT_RETAIN_RELEASES = 3;
/** Limit for each deploy script (and run-script step) when the step does not say. */
export const DEFAULT_SCRIPT_TIMEOUT_SECONDS = 1800;

export const CreateDeploymentRequestSchema = z
  .object({
    project: z.string().min(1).max(100),
    release: z.string().min(1).max(128),
    environment: z.string().min(1).max(63),
    /** only these machines of the environment (default: every enabled machine with a matching role) */
    machines: z.array(MachineNameSchema).min(1).max(1000).optional(),
    /** skip targets that are offline instead of failing them */
    skipOffline: z.boolean().optional(),
  })
  .strict();
export type CreateDeploymentRequest = z.infer<typeof CreateDeploymentRequestSchema>;

export const RollbackRequestSchema = z
  .object({
    project: z.string().min(1).max(100),
    environment: z.string().min(1).max(63),
    machines: z.array(MachineNameSchema).min(1).max(1000).optional(),
    skipOffline: z.boolean().optional(),
  })
  .strict();
export type RollbackRequest = z.infer<typeof RollbackRequestSchema>;

export const DeploymentSchema = z.object({
  id: z.number().int(),
  taskId: z.number().int(),
  project: z.string(),
  release: z.string(),
  environment: z.string(),
  machines: z.array(z.string()).nullable(),
  skipOffline: z.boolean(),
  /** the release this rollback replaced, or null for an ordinary deployment */
  rollbackFrom: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
});
export type Deployment = z.infer<typeof DeploymentSchema>;
export const DeploymentListSchema = z.object({ items: z.array(DeploymentSchema) });

export const TaskTargetSchema = z.object({
  machine: z.string(),
  state: TargetStateSchema,
  /** the step it is on (or failed in); null before it starts */
  step: z.string().nullable(),
  phase: JobPhaseSchema.nullable(),
  /** a stable code from TARGET_FAILURE_CODES when failed, skipped or cancelled */
  errorCode: z.string().nullable(),
  error: z.string().nullable(),
  bytesSent: z.number().int().nonnegative(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type TaskTarget = z.infer<typeof TaskTargetSchema>;

export const TaskSchema = z.object({
  id: z.number().int(),
  kind: z.literal('deployment'),
  description: z.string(),
  state: TaskStateSchema,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  errorCode: z.string().nullable(),
  error: z.string().nullable(),
  cancelRequested: z.boolean(),
  deployment: DeploymentSchema,
  targets: z.array(TaskTargetSchema),
});
export type Task = z.infer<typeof TaskSchema>;

/** One line of a task log. `machine` is null for the hub's own lines about the whole task. */
export const TaskLogEntrySchema = z.object({
  seq: z.number().int().positive(),
  at: z.string(),
  machine: z.string().nullable(),
  stream: LogStreamSchema,
  text: z.string(),
});
export type TaskLogEntry = z.infer<typeof TaskLogEntrySchema>;

/**
 * `GET /api/v1/tasks/{id}/log` answers text/plain, one line per entry, in this form; with
 * `Accept: application/x-ndjson` (or `?format=json`) one TaskLogEntry per line instead.
 */
export function formatLogEntry(entry: TaskLogEntry): string {
  const where = entry.machine === null ? 'hub' : entry.machine;
  return `${entry.at} ${entry.stream.padEnd(6)} [${where}] ${entry.text}`;
}

export const DRIFT_STATES = ['in-sync', 'drifted', 'unknown'] as const;
export const DriftStateSchema = z.enum(DRIFT_STATES);

export const DriftSchema = z.object({
  state: DriftStateSchema,
  /** what the tentacle last reported as current on its disk (null: nothing, or not reported yet) */
  onDisk: z.string().nullable(),
  reportedAt: z.string().nullable(),
});
export type Drift = z.infer<typeof DriftSchema>;

/** The release current on one machine for one project and environment. */
export const MachineReleaseSchema = z.object({
  machine: z.string(),
  project: z.string(),
  environment: z.string(),
  release: z.string(),
  deploymentId: z.number().int(),
  taskId: z.number().int(),
  deployedAt: z.string(),
  drift: DriftSchema,
});
export type MachineRelease = z.infer<typeof MachineReleaseSchema>;
export const MachineReleaseListSchema = z.object({ items: z.array(MachineReleaseSchema) });

/** `GET /api/v1/projects/{name}/environments/{env}`: each machine that the project's steps target there. */
export const ProjectEnvironmentMachineSchema = z.object({
  machine: z.string(),
  online: z.boolean(),
  disabled: z.boolean(),
  roles: z.array(z.string()),
  /** null when no release of the project has been deployed to it successfully */
  current: MachineReleaseSchema.nullable(),
  /** the newest deployment that included the machine, whatever its outcome */
  lastAttempt: z
    .object({ release: z.string(), deploymentId: z.number().int(), taskId: z.number().int(), state: TargetStateSchema, error: z.string().nullable(), at: z.string() })
    .nullable(),
});
export const ProjectEnvironmentSchema = z.object({
  project: z.string(),
  environment: z.string(),
  machines: z.array(ProjectEnvironmentMachineSchema),
});
export type ProjectEnvironment = z.infer<typeof ProjectEnvironmentSchema>;

export const DashboardCellSchema = z.object({
  environment: z.string(),
  /** the newest deployment of the project to the environment; null when there was none */
  latest: z
    .object({
      release: z.string(),
      deploymentId: z.number().int(),
      taskId: z.number().int(),
      state: TaskStateSchema,
      createdAt: z.string(),
      finishedAt: z.string().nullable(),
    })
    .nullable(),
  /** the newest release that deployed successfully there; null when none has */
  lastSuccess: z.string().nullable(),
});
export const DashboardSchema = z.object({
  environments: z.array(z.string()),
  projects: z.array(z.object({ project: z.string(), environments: z.array(DashboardCellSchema) })),
});
export type Dashboard = z.infer<typeof DashboardSchema>;

/** `GET /api/v1/status?project=&environment=&machine=`: one row per machine, project and environment. */
export const StatusRowSchema = z.object({
  project: z.string(),
  environment: z.string(),
  machine: z.string(),
  online: z.boolean(),
  /** the release current on the machine by the hub's record; null when none */
  release: z.string().nullable(),
  deployedAt: z.string().nullable(),
  taskId: z.number().int().nullable(),
  drift: DriftSchema,
  lastAttempt: ProjectEnvironmentMachineSchema.shape.lastAttempt,
});
export type StatusRow = z.infer<typeof StatusRowSchema>;
export const StatusListSchema = z.object({ items: z.array(StatusRowSchema) });
