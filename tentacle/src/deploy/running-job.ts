import type { Job, JobPhase, TentacleMessage } from '@cuttle/shared';
import type { HubChannel } from '../agent/job-handler.js';
import type { DeployDefaults } from './deploy-defaults.js';
import type { JobFailure } from './job-failure.js';
import { JobLog } from './job-log.js';
import type { JobRuntime } from './job-runtime.js';
import type { PackageReceiver } from './package-receiver.js';
import { secretMasker } from './secret-masker.js';

/** One job on this tentacle, from job-start to its job-result (and its clean-up). */
export class RunningJob implements JobRuntime {
  readonly log: JobLog;
  /** set once the connection that started the job closed: it is being aborted, nobody hears its result */
  detached = false;
  phaseNow: JobPhase | undefined;
  receiver: PackageReceiver | undefined;
  readonly ended: Promise<void>;
  private readonly controller = new AbortController();
  private earlierBytes = 0;
  private markEnded!: () => void;

  constructor(
    readonly jobId: string,
    readonly job: Job,
    readonly channel: HubChannel,
    defaults: Pick<DeployDefaults, 'logHighWaterBytes' | 'maxJobOutputLines' | 'maxJobOutputBytes'>,
    /** the locks this job holds (its app folder, its installDir) */
    readonly locks: readonly string[],
  ) {
    this.log = new JobLog(channel, jobId, defaults.logHighWaterBytes, undefined, secretMasker(job.variables), {
      lines: defaults.maxJobOutputLines,
      bytes: defaults.maxJobOutputBytes,
    });
    this.ended = new Promise<void>((resolve) => (this.markEnded = resolve));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Package bytes received over the websocket for this job. */
  get bytesReceived(): number {
    return this.earlierBytes + (this.receiver?.received ?? 0);
  }

  phase(phase: JobPhase): void {
    this.phaseNow = phase;
    this.log.send({ type: 'job-status', jobId: this.jobId, phase });
  }

  send(message: TentacleMessage): void {
    this.log.send(message);
  }

  setReceiver(receiver: PackageReceiver | undefined): void {
    this.earlierBytes += this.receiver?.received ?? 0;
    this.receiver = receiver;
  }

  /** Aborts the job with `failure` (the first reason wins). */
  abort(failure: JobFailure): void {
    if (!this.controller.signal.aborted) this.controller.abort(failure);
  }

  end(): void {
    this.log.close();
    this.markEnded();
  }
}
