import type { Logger } from 'pino';
import type { Job, JobError, JobPhase } from '@cuttle/shared';
import type { JobHandlers, JobOutcome } from '../deployments/tentacle-jobs.js';
import type { PackageSender } from './package-sender.js';
import type { WebSocketSession } from './tentacle-session.js';

/** At most this many bytes go unreported to onBytesSent while a package streams. */
const BYTES_SENT_REPORT_STEP = 1024 * 1024;

/**
 * Where one run stands:
 * - running: an attempt is on a session (job-start sent);
 * - waiting: the connection dropped during the transfer; waiting for the machine to come back;
 * - finishing: the outcome is decided (cancel, package-abort) and the tentacle's job-result awaited;
 * - done: resolved.
 */
export type RunState = 'running' | 'waiting' | 'finishing' | 'done';

/** An outcome without the byte count, which the run adds when it resolves. */
export type Verdict = Omit<JobOutcome, 'bytesSent'>;

export const failed = (code: JobError['code'], message: string): Verdict => ({ outcome: 'failed', error: { code, message }, releaseDir: null });
export const cancelled = (message: string): Verdict => ({ outcome: 'cancelled', error: { code: 'cancelled', message }, releaseDir: null });

/** One call of TentacleJobs.run: the job, its attempts so far, and how it resolves. */
export class JobRun {
  state: RunState = 'running';
  attempt = 0;
  /** The current attempt's job id and session (null while waiting for a reconnect). */
  jobId: string | null = null;
  session: WebSocketSession | null = null;
  /** The last phase the tentacle reported for the current attempt. */
  phase: JobPhase | null = null;
  sender: PackageSender | null = null;
  /** Frees this run's transfer slot, or withdraws its place in line for one. */
  private slotRelease: (() => void) | null = null;
  /** A reconnect grace, or the wait for a job-result once the verdict is decided. */
  timer: NodeJS.Timeout | null = null;
  /** Set in `finishing`: what the run resolves with, and whether the tentacle's own result may replace it. */
  pending: { verdict: Verdict; tentacleDecides: boolean } | null = null;
  private bytesSent = 0;
  private bytesReported = 0;
  private readonly cleanups: Array<() => void> = [];

  readonly handlers: JobHandlers;

  constructor(
    readonly machine: string,
    readonly job: Job,
    handlers: JobHandlers,
    /** the random part of every attempt's job id */
    readonly idStem: string,
    private readonly resolve: (outcome: JobOutcome) => void,
    log: Logger,
  ) {
    this.handlers = guardHandlers(handlers, log, machine);
  }

  /** Runs when the run resolves (timers, listeners). */
  onDone(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  addBytesSent(bytes: number): void {
    this.bytesSent += bytes;
    if (this.bytesSent - this.bytesReported >= BYTES_SENT_REPORT_STEP) this.reportBytes();
  }

  /** Tells the handlers the byte count now, if it changed since the last report. */
  reportBytes(): void {
    if (this.bytesSent === this.bytesReported) return;
    this.bytesReported = this.bytesSent;
    this.handlers.onBytesSent(this.bytesSent);
  }

  clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  stopSender(): void {
    this.sender?.stop();
    this.sender = null;
    this.releaseSlot();
  }

  /** Keeps how to free the transfer slot (or give up the place in line) this run holds now. */
  holdSlot(release: () => void): void {
    if (this.slotRelease !== release) this.releaseSlot();
    this.slotRelease = release;
  }

  releaseSlot(): void {
    const release = this.slotRelease;
    this.slotRelease = null;
    release?.();
  }

  /** Resolves the run once; later calls do nothing. */
  settle(verdict: Verdict): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.clearTimer();
    this.stopSender();
    this.reportBytes();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.resolve({ ...verdict, bytesSent: this.bytesSent });
  }
}

/** The runner's handlers may throw; a fault there is logged and never reaches the connection. */
function guardHandlers(handlers: JobHandlers, log: Logger, machine: string): JobHandlers {
  const guard =
    <A extends unknown[]>(name: string, fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (error) {
        log.error({ machine, handler: name, err: error }, 'a job handler failed');
      }
    };
  return {
    onPhase: guard('onPhase', (phase) => handlers.onPhase(phase)),
    onLog: guard('onLog', (lines) => handlers.onLog(lines)),
    onHubLog: guard('onHubLog', (stream, text) => handlers.onHubLog(stream, text)),
    onBytesSent: guard('onBytesSent', (total) => handlers.onBytesSent(total)),
  };
}
