import type { JobPhase, TentacleMessage } from '@cuttle/shared';
import type { Logger } from '../log/logger.js';
import type { HomeLayout } from './app-paths.js';
import type { DeployDefaults } from './deploy-defaults.js';
import type { JobLog } from './job-log.js';
import type { PackageCache } from './package-cache.js';
import type { PackageReceiver, PackageWriteHook } from './package-receiver.js';
import type { ScriptRecords } from './script-records.js';

/** What a running job can do: log, report phases, wait for package bytes, and notice an abort. */
export interface JobRuntime {
  readonly jobId: string;
  readonly log: JobLog;
  /** aborted by cancel, a lost connection, package-abort or a bad chunk; the reason is a JobFailure */
  readonly signal: AbortSignal;
  phase(phase: JobPhase): void;
  send(message: TentacleMessage): void;
  /** the receiver that package chunks for this job go to (undefined: the job takes no bytes now) */
  setReceiver(receiver: PackageReceiver | undefined): void;
}

/** What every job shares on one tentacle. */
export interface DeployServices {
  home: HomeLayout;
  cache: PackageCache;
  defaults: DeployDefaults;
  /** the environment scripts start from (the tentacle's own) */
  env: NodeJS.ProcessEnv;
  /** process groups of running scripts */
  groups: Set<number>;
  /** records of running scripts, for the recovery after a crash */
  records: ScriptRecords;
  /** aborted when the tentacle stops: also ends the scripts that run after a failure */
  shutdown: AbortSignal;
  logger: Logger;
  now: () => Date;
  beforePackageWrite?: PackageWriteHook;
}

export function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
