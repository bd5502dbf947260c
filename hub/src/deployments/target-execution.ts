import { isCuttleError, PROTOCOL_LIMITS, type Job, type JobLogLine, type LogStream, type TargetState } from '@cuttle/shared';
import { createMasker } from '../variables/log-masker.js';
import type { DeploymentRecord, TargetFields, TargetRecord } from './deployment-repository.js';
import { buildJob } from './job-builder.js';
import type { TargetFailure } from './task-messages.js';
import type { TaskRunnerDeps } from './task-runner.js';
import type { JobHandlers } from './tentacle-jobs.js';
import type { TaskVariables } from './task-variables.js';
import { TargetLogBudget } from './task-log-limits.js';

interface TargetRuntime {
  record: TargetRecord;
  /** whether this deployment installed the project's main app (slot null) on the machine */
  installedMainApp: boolean;
  /** bytes sent by this target's earlier jobs */
  bytesBefore: number;
  /** how much more of its scripts' output the task log keeps */
  logBudget: TargetLogBudget;
}

const FINISHED: readonly TargetState[] = ['success', 'failed', 'skipped', 'cancelled'];
/** bytesSent is written at most this often while a transfer runs (and always at the job's end). */
const BYTES_WRITE_INTERVAL_MS = 500;

/** The targets of one running task: runs steps on them and records every change as it happens. */
export class TargetExecution {
  private readonly targets = new Map<string, TargetRuntime>();
  private readonly taskId: number;
  private failedStep: string | null = null;
  /** the release's variables, or why they could not be loaded (every target then fails configuration-failed) */
  private readonly variables: TaskVariables | { error: string } | null;
  private readonly mask: (text: string) => string;
  /** machines whose unresolved references the task log already told about (once per target) */
  private readonly warned = new Set<string>();

  constructor(
    private readonly deps: TaskRunnerDeps,
    private readonly deployment: DeploymentRecord,
    records: readonly TargetRecord[],
    private readonly signal: AbortSignal,
    private readonly stopped: () => boolean,
  ) {
    this.taskId = deployment.taskId;
    for (const record of records) this.targets.set(record.machine, { record: { ...record }, installedMainApp: false, bytesBefore: 0, logBudget: new TargetLogBudget(deps.logLimits) });
    this.variables = this.loadVariables();
    this.mask = createMasker(this.variables !== null && 'secrets' in this.variables ? this.variables.secrets : []);
    // before any job starts: every line of this task, the tentacles' output included, is masked from here on
    deps.log.setMask(this.taskId, this.mask);
  }

  private loadVariables(): TaskVariables | { error: string } | null {
    const source = this.deps.variables;
    if (!source) return null;
    try {
      return source.forTask(this.deployment.project, this.deployment.release, this.deployment.environment);
    } catch (error) {
      if (!isCuttleError(error)) this.deps.logger.error({ err: error, taskId: this.taskId }, 'loading the release variables failed');
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** The machines still in the running that the step runs on, in target order. */
  machinesFor(stepName: string): string[] {
    return [...this.targets.values()].filter((t) => t.record.steps.includes(stepName) && !FINISHED.includes(t.record.state)).map((t) => t.record.machine);
  }

  /**
   * Runs the step on the machines, at most `parallelism` at once. After the first failure no
   * further target starts; the running ones finish. Returns the failures.
   */
  async runStep(stepIndex: number, machines: readonly string[], parallelism: number): Promise<TargetFailure[]> {
    const failures: TargetFailure[] = [];
    let next = 0;
    const worker = async () => {
      while (failures.length === 0 && !this.signal.aborted && !this.stopped() && next < machines.length) {
        const machine = machines[next++]!;
        let failure: TargetFailure | null;
        try {
          failure = await this.runTarget(machine, stepIndex);
        } catch (error) {
          // one target's fault fails that target only: the step still waits for the others' jobs
          failure = this.crashed(machine, stepIndex, error);
        }
        if (failure) failures.push(failure);
      }
    };
    // every worker settles before the step ends, so the task's locks outlive all of its jobs
    await Promise.allSettled(Array.from({ length: Math.min(parallelism, machines.length) }, worker));
    if (failures.length > 0) this.failedStep = this.deployment.steps[stepIndex]?.name ?? null;
    return failures;
  }

  allSucceeded(): boolean {
    return [...this.targets.values()].every((t) => t.record.state === 'success');
  }

  anySucceeded(): boolean {
    return [...this.targets.values()].some((t) => t.record.state === 'success');
  }

  firstFailureCode(): string | null {
    return [...this.targets.values()].find((t) => t.record.state === 'failed')?.record.errorCode ?? null;
  }

  counts(): Record<'success' | 'failed' | 'skipped' | 'cancelled', number> {
    const counts = { success: 0, failed: 0, skipped: 0, cancelled: 0 };
    for (const { record } of this.targets.values()) if (record.state in counts) counts[record.state as keyof typeof counts]++;
    return counts;
  }

  /** Ends every target that has not finished: cancelled, or skipped because a step failed. */
  closeUnfinished(as: 'cancelled' | 'skipped', at: string): void {
    for (const target of this.targets.values()) {
      if (FINISHED.includes(target.record.state)) continue;
      const pending = target.record.state === 'pending';
      if (as === 'cancelled') {
        this.update(target, { state: 'cancelled', errorCode: 'cancelled', error: pending ? 'cancelled before it ran' : 'cancelled before its remaining steps ran', finishedAt: at });
      } else {
        const why = this.failedStep === null ? 'the deployment stopped' : `step ${this.failedStep} failed`;
        this.update(target, { state: 'skipped', errorCode: null, error: pending ? `not run: ${why}` : `its later steps did not run: ${why}`, finishedAt: at });
      }
    }
  }

  private async runTarget(machine: string, stepIndex: number): Promise<TargetFailure | null> {
    const { jobs, log } = this.deps;
    const target = this.targets.get(machine)!;
    const step = this.deployment.steps[stepIndex]!;
    const now = () => this.deps.clock().toISOString();

    if (!jobs.isOnline(machine)) return this.offline(target, step.name);

    this.update(target, { state: 'running', step: step.name, phase: null, startedAt: target.record.startedAt ?? now() });
    let job: Job;
    try {
      if (this.variables !== null && 'error' in this.variables) throw new ConfigurationError(`the release's variables could not be loaded: ${this.variables.error}`);
      job = buildJob(
        { deploymentId: this.deployment.id, taskId: this.taskId, project: this.deployment.project, release: this.deployment.release, environment: this.deployment.environment, machine },
        this.deployment.steps,
        stepIndex,
        this.deployment.packages,
        this.variables ?? undefined,
      );
      const size = Buffer.byteLength(JSON.stringify(job));
      if (job.variables && size > PROTOCOL_LIMITS.maxControlMessageBytes - 1024) {
        throw new ConfigurationError(`the job with its ${job.variables.length} variables takes ${size} bytes; a job may take at most ${PROTOCOL_LIMITS.maxControlMessageBytes - 1024}`);
      }
      if (this.variables !== null && !this.warned.has(machine)) {
        this.warned.add(machine);
        for (const warning of this.variables.warnings(machine)) log.hub(this.taskId, `${machine}: ${this.mask(warning)}`, 'warn', machine);
      }
    } catch (error) {
      // an ambiguity, a cycle or a value grown too long for this machine, or a snapshot that cannot be read: the job never starts
      const configuration = error instanceof ConfigurationError || (isCuttleError(error) && CONFIGURATION_CODES.includes(error.code));
      if (!configuration) throw error;
      const message = this.mask(`configuration failed: ${(error as Error).message}`);
      this.update(target, { state: 'failed', errorCode: 'configuration-failed', error: message, finishedAt: now() });
      log.hub(this.taskId, `${machine}: failed in step ${step.name}: configuration-failed: ${message}`, 'error', machine);
      return { machine, code: 'configuration-failed', message };
    }
    const outcome = await jobs.run(machine, job, this.handlers(target), this.signal);
    if (this.stopped()) return null;
    this.reportDropped(target);

    const bytesSent = target.bytesBefore + outcome.bytesSent;
    target.bytesBefore = bytesSent;
    if (outcome.outcome === 'success') return this.succeeded(target, job, bytesSent);
    if (outcome.outcome === 'failed' && outcome.error?.code === 'machine-offline' && this.deployment.skipOffline) {
      this.update(target, { bytesSent });
      return this.offline(target, step.name);
    }
    // cancelled only counts as such when this task asked for it; otherwise the target failed
    const cancelled = outcome.outcome === 'cancelled' && this.signal.aborted;
    const code = outcome.outcome === 'cancelled' ? 'cancelled' : (outcome.error?.code ?? 'invalid-job');
    const message = this.mask(outcome.error?.message ?? (outcome.outcome === 'cancelled' ? 'the job was cancelled' : 'the job failed without saying why'));
    this.update(target, { state: cancelled ? 'cancelled' : 'failed', errorCode: code, error: message, bytesSent, finishedAt: now() });
    log.hub(this.taskId, `${machine}: ${cancelled ? 'cancelled' : 'failed'} in step ${step.name}: ${code}: ${message}`, cancelled ? 'warn' : 'error', machine);
    return cancelled ? null : { machine, code, message };
  }

  /** A target whose run threw (a damaged record, a fault of the hub's): it fails with invalid-job. */
  private crashed(machine: string, stepIndex: number, error: unknown): TargetFailure | null {
    if (this.stopped()) return null;
    this.deps.logger.error({ err: error, taskId: this.taskId, machine }, 'running a deployment target failed unexpectedly');
    const stepName = this.deployment.steps[stepIndex]?.name ?? `#${stepIndex + 1}`;
    const message = this.mask(`the hub could not run the job: ${error instanceof Error ? error.message : String(error)}`);
    try {
      const target = this.targets.get(machine);
      if (target) this.reportDropped(target);
      if (target) this.update(target, { state: 'failed', errorCode: 'invalid-job', error: message, finishedAt: this.deps.clock().toISOString() });
      this.deps.log.hub(this.taskId, `${machine}: failed in step ${stepName}: invalid-job: ${message}`, 'error', machine);
    } catch (recording) {
      this.deps.logger.error({ err: recording, taskId: this.taskId, machine }, 'recording a target failure failed');
    }
    return { machine, code: 'invalid-job', message };
  }

  private succeeded(target: TargetRuntime, job: Job, bytesSent: number): null {
    const { repo, history, log } = this.deps;
    const at = this.deps.clock().toISOString();
    const machine = target.record.machine;
    const last = target.record.steps.at(-1) === job.step;
    repo.transaction(() => {
      if (job.kind === 'deploy-package') {
        // the tentacle just switched this app to the release: the hub knows the disk without waiting for an inventory
        const app = { app: job.app, release: this.deployment.release, packageId: job.package.id, packageVersion: job.package.version, deployedAt: at };
        history.upsertInventoryApp(machine, app, at);
        if (job.app.slot === null) target.installedMainApp = true;
      }
      const record = () =>
        history.recordRelease({
          machine,
          project: this.deployment.project,
          environment: this.deployment.environment,
          release: this.deployment.release,
          deploymentId: this.deployment.id,
          taskId: this.taskId,
          deployedAt: at,
          installedPackage: target.installedMainApp,
        });
      if (last) {
        this.update(target, { state: 'success', bytesSent, finishedAt: at });
        record();
      } else {
        // the main app is switched on this machine's disk: it runs this release now, whatever later steps do
        if (job.kind === 'deploy-package' && job.app.slot === null) record();
        this.update(target, { bytesSent });
      }
    });
    log.hub(this.taskId, last ? `${machine}: success, ${this.deployment.release} is current` : `${machine}: step ${job.step} done`, 'info', machine);
    return null;
  }

  private offline(target: TargetRuntime, stepName: string): TargetFailure | null {
    const machine = target.record.machine;
    const at = this.deps.clock().toISOString();
    if (this.deployment.skipOffline) {
      this.update(target, { state: 'skipped', step: stepName, errorCode: 'machine-offline', error: `${machine} was offline at step ${stepName}; skipped`, finishedAt: at });
      this.deps.log.hub(this.taskId, `${machine}: offline at step ${stepName}; skipped`, 'warn', machine);
      return null;
    }
    const message = `${machine} is not connected to the hub`;
    this.update(target, { state: 'failed', step: stepName, errorCode: 'machine-offline', error: message, finishedAt: at });
    this.deps.log.hub(this.taskId, `${machine}: failed in step ${stepName}: machine-offline: ${message}`, 'error', machine);
    return { machine, code: 'machine-offline', message };
  }

  private handlers(target: TargetRuntime): JobHandlers {
    const machine = target.record.machine;
    let lastBytesWrite = 0;
    const record = (fn: () => void) => {
      if (this.stopped()) return;
      try {
        fn();
      } catch (error) {
        this.deps.logger.error({ err: error, taskId: this.taskId, machine }, 'recording a job event failed');
      }
    };
    return {
      onPhase: (phase) => record(() => this.update(target, { phase })),
      onLog: (lines: JobLogLine[]) =>
        record(() => {
          const { kept, firstDrop } = target.logBudget.admit(lines);
          this.deps.log.append(this.taskId, kept.map((line) => ({ at: timeOf(line.at, this.deps.clock), machine, stream: line.stream, text: line.text })));
          if (firstDrop) this.deps.log.hub(this.taskId, target.logBudget.truncationNotice(), 'warn', machine);
        }),
      onHubLog: (stream: LogStream, text: string) => record(() => this.deps.log.hub(this.taskId, text, stream, machine)),
      onBytesSent: (total: number) =>
        record(() => {
          const now = performance.now();
          if (now - lastBytesWrite < BYTES_WRITE_INTERVAL_MS) return;
          lastBytesWrite = now;
          this.update(target, { bytesSent: target.bytesBefore + total });
        }),
    };
  }

  /** After a job: how many of its output lines the log dropped, if any. */
  private reportDropped(target: TargetRuntime): void {
    const summary = target.logBudget.takeSummary();
    if (summary !== null) this.deps.log.hub(this.taskId, summary, 'warn', target.record.machine);
  }

  private update(target: TargetRuntime, fields: TargetFields): void {
    if (this.stopped()) return;
    Object.assign(target.record, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
    this.deps.repo.updateTarget(this.taskId, target.record.machine, fields);
  }
}

class ConfigurationError extends Error {}

/** What resolving a machine's variables may throw: the target fails configuration-failed. */
const CONFIGURATION_CODES: readonly string[] = ['ambiguous-variable', 'variable-cycle', 'invalid-request'];

/** The tentacle's time for a line when it is one; the hub's otherwise. */
function timeOf(at: string, clock: () => Date): string {
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? clock().toISOString() : new Date(ms).toISOString();
}
