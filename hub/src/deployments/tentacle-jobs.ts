import type { InstalledApp, Job, JobError, JobLogLine, JobPhase, LogStream } from '@cuttle/shared';

/**
 * The seam between the deployment runner (which decides what runs where and records it) and the
 * tentacle gateway (which runs one job on one tentacle over its websocket, package transfer
 * included). The gateway implements it; the runner and its tests only see this interface.
 */

export interface JobHandlers {
  /** The tentacle moved to another phase (transfer, extract, PreDeploy, ...). */
  onPhase(phase: JobPhase): void;
  /** Output and progress lines from the tentacle, in order, already validated. */
  onLog(lines: JobLogLine[]): void;
  /** The gateway's own lines about this job (a lost connection, a resumed transfer, ...). */
  onHubLog(stream: LogStream, text: string): void;
  /** Total package bytes sent to the tentacle for this job so far (across resumed attempts). */
  onBytesSent(total: number): void;
}

export interface JobOutcome {
  outcome: 'success' | 'failed' | 'cancelled';
  /** set when failed or cancelled */
  error: JobError | null;
  /** package bytes sent over the websocket for this job (0 when the tentacle's cache had it) */
  bytesSent: number;
  /** the tentacle's release folder for a successful deploy-package job */
  releaseDir: string | null;
}

export interface TentacleJobs {
  /** Whether the machine has a live, ready connection now. */
  isOnline(machine: string): boolean;
  /**
   * Runs one job on the machine's tentacle to its end and never rejects: every failure is an
   * outcome with a TARGET_FAILURE_CODES code. An offline machine fails at once with
   * `machine-offline`. A connection lost during the transfer waits up to the reconnect grace for
   * the tentacle to come back and starts the job again (the transfer resumes where it stopped);
   * lost at any later phase it fails with `connection-lost`. Aborting `signal` sends job-cancel and
   * resolves `cancelled` once the tentacle confirms (or after a bounded wait).
   */
  run(machine: string, job: Job, handlers: JobHandlers, signal: AbortSignal): Promise<JobOutcome>;
  /** Called with each inventory a tentacle sends after its hello. */
  onInventory(listener: (machine: string, apps: InstalledApp[]) => void): void;
}
