import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { JobSchema, PROTOCOL_LIMITS, type InstalledApp, type Job, type JobPhase } from '@cuttle/shared';
import type { JobHandlers, JobOutcome, TentacleJobs } from '../deployments/tentacle-jobs.js';
import { JobRun, cancelled, failed, type Verdict } from './job-run.js';
import { lostWhere, lostWhileRunning, mib, packageLabel, seconds } from './job-texts.js';
import { PackageSender } from './package-sender.js';
import { DEFAULT_MAX_CONCURRENT_TRANSFERS, TransferSlots } from './transfer-slots.js';
import type { JobMessage, WebSocketSession } from './tentacle-session.js';

/** How long a job whose connection dropped during the transfer waits for the tentacle to come back. */
export const DEFAULT_TRANSFER_RECONNECT_GRACE_MS = 60_000;
/** How long a cancelled (or aborted) job waits for the tentacle's job-result before it resolves anyway. */
export const DEFAULT_JOB_CONFIRM_TIMEOUT_MS = 15_000;
/** Attempts of one job (the first and its restarts after lost connections during the transfer). */
export const MAX_JOB_ATTEMPTS = 5;
/** Job ids of finished runs remembered, so that a late message for one is not answered as unknown. */
const RETIRED_IDS_KEPT = 1024;

export interface JobsGatewayOptions {
  /** The path of a stored package blob; without it a package-request fails the job `transfer-failed`. */
  packageFile?: ((sha256: string) => string) | undefined;
  transferReconnectGraceMs?: number | undefined;
  /** Transfers beyond this many wait, first come first served, for one to end (default 4). */
  maxConcurrentTransfers?: number | undefined;
  confirmTimeoutMs?: number | undefined;
  /** Whether the session is still the machine's registered connection (not revoked, disabled or replaced). */
  isCurrent: (session: WebSocketSession) => boolean;
  log: Logger;
}

type ReadyListener = (session: WebSocketSession) => void;

/**
 * TentacleJobs over the gateway's websocket sessions: starts each attempt of a job, routes the
 * tentacle's job messages to the run's handlers, streams packages on request, restarts a job whose
 * connection dropped during its transfer, and resolves every run exactly once.
 */
export class TentacleJobsGateway implements TentacleJobs {
  private readonly online = new Map<string, WebSocketSession>();
  private readonly runs = new Set<JobRun>();
  private readonly byJobId = new Map<string, JobRun>();
  private readonly retired = new Set<string>();
  private readonly comebacks = new Map<string, Set<ReadyListener>>();
  private readonly inventoryListeners: Array<(machine: string, apps: InstalledApp[]) => void> = [];
  private readonly graceMs: number;
  private readonly confirmMs: number;
  private shuttingDown = false;
  private readonly slots: TransferSlots;
  private sequence = 0;

  constructor(private readonly options: JobsGatewayOptions) {
    this.graceMs = options.transferReconnectGraceMs ?? DEFAULT_TRANSFER_RECONNECT_GRACE_MS;
    this.confirmMs = options.confirmTimeoutMs ?? DEFAULT_JOB_CONFIRM_TIMEOUT_MS;
    this.slots = new TransferSlots(options.maxConcurrentTransfers ?? DEFAULT_MAX_CONCURRENT_TRANSFERS);
  }

  isOnline(machine: string): boolean {
    return this.sessionOf(machine) !== null;
  }

  onInventory(listener: (machine: string, apps: InstalledApp[]) => void): void {
    this.inventoryListeners.push(listener);
  }

  run(machine: string, job: Job, handlers: JobHandlers, signal: AbortSignal): Promise<JobOutcome> {
    return new Promise((resolve) => {
      const run = new JobRun(machine, job, handlers, this.newIdStem(job.taskId), resolve, this.options.log);
      if (this.shuttingDown) return run.settle(failed('interrupted', 'the hub is shutting down'));
      if (signal.aborted) return run.settle(cancelled('the task was cancelled before the job started'));
      const invalid = checkJob(job);
      if (invalid) return run.settle(failed('invalid-job', invalid));
      const session = this.sessionOf(machine);
      if (!session) return run.settle(failed('machine-offline', `${machine} is not connected to the hub`));
      this.runs.add(run);
      const onAbort = () => this.cancel(run);
      signal.addEventListener('abort', onAbort, { once: true });
      run.onDone(() => {
        signal.removeEventListener('abort', onAbort);
        this.runs.delete(run);
        this.retire(run);
      });
      this.startAttempt(run, session);
    });
  }

  // ---- session events (from the gateway) ----

  /** A session finished its hello: runs waiting for this machine start again on it. */
  sessionOnline(session: WebSocketSession): void {
    const key = session.machineName.toLowerCase();
    // A newer connection replaces the old one, and with it the jobs that ran there.
    for (const run of [...this.runs]) {
      if (run.session && run.session !== session && run.session.machineName.toLowerCase() === key) this.connectionLost(run);
    }
    this.online.set(key, session);
    const listeners = this.comebacks.get(key);
    this.comebacks.delete(key);
    for (const listener of listeners ?? []) listener(session);
  }

  sessionClosed(session: WebSocketSession): void {
    const key = session.machineName.toLowerCase();
    if (this.online.get(key) === session) this.online.delete(key);
    for (const run of [...this.runs]) if (run.session === session) this.connectionLost(run);
  }

  handleMessage(session: WebSocketSession, message: JobMessage): void {
    if (message.type === 'inventory') return this.handleInventory(session, message.apps, message.activeJobs);
    const run = this.byJobId.get(message.jobId);
    if (!run || run.session !== session) return this.unknownJob(session, message);
    switch (message.type) {
      case 'job-status':
        return this.onPhase(run, message.phase);
      case 'job-log':
        return run.handlers.onLog(message.lines);
      case 'package-request':
        return this.sendPackage(run, session, message.offset);
      case 'job-result': {
        const fromTentacle: Verdict = {
          outcome: message.outcome,
          error: message.outcome === 'success' ? null : (message.error ?? { code: message.outcome === 'cancelled' ? 'cancelled' : 'install-failed', message: 'the tentacle gave no reason' }),
          releaseDir: message.outcome === 'success' ? message.releaseDir : null,
        };
        const pending = run.pending;
        return run.settle(pending && !pending.tentacleDecides ? pending.verdict : fromTentacle);
      }
    }
  }

  /** Hub shutdown: every run resolves `interrupted` before the connections close. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const run of [...this.runs]) run.settle(failed('interrupted', 'the hub shut down while the job ran'));
    this.comebacks.clear();
  }

  // ---- runs ----

  private sessionOf(machine: string): WebSocketSession | null {
    const session = this.online.get(machine.toLowerCase());
    return session && session.isOnline && this.options.isCurrent(session) ? session : null;
  }

  private startAttempt(run: JobRun, session: WebSocketSession): void {
    run.attempt++;
    run.state = 'running';
    run.jobId = `${run.idStem}.${run.attempt}`;
    run.session = session;
    run.phase = null;
    this.byJobId.set(run.jobId, run);
    // false: the socket is closing; its close event makes this a lost connection
    session.send({ type: 'job-start', jobId: run.jobId, job: run.job });
  }

  private onPhase(run: JobRun, phase: JobPhase): void {
    run.phase = phase;
    // past the transfer the tentacle has every byte it wants
    if (phase !== 'transfer') run.stopSender();
    run.handlers.onPhase(phase);
  }

  private cancel(run: JobRun): void {
    if (run.state === 'waiting') return run.settle(cancelled('the task was cancelled'));
    if (run.state !== 'running' || !run.session || !run.jobId) return;
    run.session.send({ type: 'job-cancel', jobId: run.jobId, reason: 'the task was cancelled' });
    run.handlers.onHubLog('warn', `asked ${run.machine} to cancel the job`);
    // the tentacle's result stands: a job that finished before the cancel arrived did install
    this.awaitResult(run, cancelled('the task was cancelled'), true);
  }

  /** The verdict is decided; the tentacle's job-result is awaited a bounded time so that it ends its side first. */
  private awaitResult(run: JobRun, verdict: Verdict, tentacleDecides: boolean): void {
    run.stopSender();
    run.clearTimer();
    run.state = 'finishing';
    run.pending = { verdict, tentacleDecides };
    run.timer = setTimeout(() => {
      run.handlers.onHubLog('warn', `${run.machine} did not confirm the end of the job within ${seconds(this.confirmMs)}`);
      run.settle(verdict);
    }, this.confirmMs);
  }

  private connectionLost(run: JobRun): void {
    const session = run.session;
    if (!session) return;
    if (run.state === 'finishing' && run.pending) return run.settle(run.pending.verdict);
    if (run.state !== 'running') return;
    const position = run.sender?.position ?? null;
    run.stopSender();
    run.reportBytes();
    this.retire(run);
    run.session = null;
    const phase = run.phase;
    // past the transfer something may have been installed: that job is not started again
    if (phase !== null && phase !== 'transfer') return run.settle(failed('connection-lost', lostWhileRunning(run.machine, run.job, phase)));
    if (run.attempt >= MAX_JOB_ATTEMPTS) {
      return run.settle(failed('connection-lost', `the connection to ${run.machine} was lost ${MAX_JOB_ATTEMPTS} times during the transfer; giving up`));
    }
    const where = lostWhere(phase, position);
    run.handlers.onHubLog('warn', `connection to ${run.machine} lost ${where}; waiting up to ${seconds(this.graceMs)} for it to come back`);
    run.state = 'waiting';
    const comeback: ReadyListener = (next) => {
      run.clearTimer();
      if (run.state !== 'waiting') return;
      run.handlers.onHubLog('info', `${run.machine} is back; starting the job again (attempt ${run.attempt + 1} of ${MAX_JOB_ATTEMPTS})`);
      this.startAttempt(run, next);
    };
    const again = this.sessionOf(run.machine);
    if (again && again !== session) return comeback(again);
    const key = run.machine.toLowerCase();
    const listeners = this.comebacks.get(key) ?? new Set<ReadyListener>();
    listeners.add(comeback);
    this.comebacks.set(key, listeners);
    run.timer = setTimeout(() => {
      listeners.delete(comeback);
      run.settle(failed('connection-lost', `the connection to ${run.machine} was lost ${where} and did not come back within ${seconds(this.graceMs)}`));
    }, this.graceMs);
    run.onDone(() => listeners.delete(comeback));
  }

  private sendPackage(run: JobRun, session: WebSocketSession, offset: number): void {
    const job = run.job;
    const jobId = run.jobId;
    if (job.kind !== 'deploy-package') {
      session.send({ type: 'error', code: 'invalid-message', message: 'a run-script job has no package to request', ...(jobId ? { replyTo: jobId } : {}) });
      return;
    }
    if (run.state !== 'running' || !jobId) return;
    const size = job.package.size;
    if (offset > size) return this.abortTransfer(run, session, `the tentacle asked for the package from byte ${offset}, past its size of ${size} bytes`);
    if (!this.options.packageFile) return this.abortTransfer(run, session, 'the hub has no package store to send the package from');
    run.stopSender();
    const file = this.options.packageFile(job.package.sha256);
    let started = false;
    const begin = (release: () => void) => {
      started = true;
      run.holdSlot(release); // before anything starts: a transfer with nothing to send ends at once
      if (this.shuttingDown || run.state !== 'running' || run.jobId !== jobId || run.session !== session) return run.releaseSlot();
      run.handlers.onHubLog(
        'info',
        offset === 0
          ? `sending ${packageLabel(job)} (${mib(size)}) to ${run.machine}`
          : `resuming the transfer of ${packageLabel(job)} to ${run.machine} at ${mib(offset)} of ${mib(size)}`,
      );
      const sender = new PackageSender(session, jobId, file, offset, size, {
        onWritten: (bytes) => run.addBytesSent(bytes),
        onDone: () => {
          run.reportBytes();
          if (run.sender === sender) run.releaseSlot();
        },
        onFailed: (reason) => {
          if (run.sender === sender) this.abortTransfer(run, session, `cannot send ${packageLabel(job)}: ${reason}`);
        },
      });
      run.sender = sender;
      sender.start();
    };
    if (this.slots.running >= this.slots.limit) {
      run.handlers.onHubLog('info', `waiting to send ${packageLabel(job)} to ${run.machine}: ${this.slots.running} transfers are running (at most ${this.slots.limit} at once)`);
    }
    const release = this.slots.request(begin);
    if (!started) run.holdSlot(release); // its place in line, given up if the run stops first
  }

  private abortTransfer(run: JobRun, session: WebSocketSession, reason: string): void {
    if (!run.jobId) return;
    this.options.log.warn({ machine: run.machine, jobId: run.jobId, reason }, 'package transfer aborted');
    session.send({ type: 'package-abort', jobId: run.jobId, reason });
    run.handlers.onHubLog('error', reason);
    this.awaitResult(run, failed('transfer-failed', reason), false);
  }

  private handleInventory(session: WebSocketSession, apps: InstalledApp[], activeJobs: string[]): void {
    for (const listener of this.inventoryListeners) {
      try {
        listener(session.machineName, apps);
      } catch (error) {
        this.options.log.error({ machine: session.machineName, err: error }, 'an inventory listener failed');
      }
    }
    for (const jobId of activeJobs) {
      if (this.byJobId.get(jobId)?.session === session) continue;
      session.send({ type: 'job-cancel', jobId, reason: 'the hub no longer runs this job' });
    }
  }

  private unknownJob(session: WebSocketSession, message: Exclude<JobMessage, { type: 'inventory' }>): void {
    if (this.retired.has(message.jobId)) {
      // a late message of a job that has ended; a package it still wants will not come
      if (message.type === 'package-request') session.send({ type: 'package-abort', jobId: message.jobId, reason: 'the hub no longer runs this job' });
      return;
    }
    this.options.log.warn({ machine: session.machineName, jobId: message.jobId, type: message.type }, 'message for a job the hub does not run');
    session.send({ type: 'error', code: 'unknown-job', message: `the hub runs no job ${message.jobId} on this connection`, replyTo: message.jobId });
  }

  /** Forgets the current attempt's id; messages still carrying it are late ones. */
  private retire(run: JobRun): void {
    if (!run.jobId) return;
    if (this.byJobId.get(run.jobId) === run) this.byJobId.delete(run.jobId);
    this.retired.add(run.jobId);
    if (this.retired.size > RETIRED_IDS_KEPT) {
      const oldest = this.retired.values().next();
      if (!oldest.done) this.retired.delete(oldest.value);
    }
  }

  /**
   * `t<taskId>.<sequence><random>`, to which each attempt adds `.<attempt>`: the sequence keeps ids
   * unique in this process, the random part apart from those of an earlier hub process.
   */
  private newIdStem(taskId: number): string {
    this.sequence++;
    return `t${taskId}.${this.sequence.toString(36)}${randomBytes(4).toString('hex')}`;
  }
}

/** Why the hub will not send this job (the tentacle would refuse it, or drop the connection over its size), or null. */
function checkJob(job: Job): string | null {
  const parsed = JobSchema.safeParse(job);
  if (!parsed.success) return `the hub built an invalid job: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
  // the job-start message around the job stays well within this
  const size = Buffer.byteLength(JSON.stringify(job));
  if (size > PROTOCOL_LIMITS.maxControlMessageBytes - 1024) return `the job is too large to send (${size} bytes)`;
  return null;
}
