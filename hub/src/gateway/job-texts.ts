import type { Job, JobPhase } from '@cuttle/shared';

/** The gateway's own log lines and failure messages about jobs, worded in one place. */

export const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

export const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

const PHASE_WORDS: Record<Exclude<JobPhase, 'transfer'>, string> = {
  extract: 'while the package was extracted',
  PreDeploy: 'while PreDeploy.sh ran',
  configure: 'while the release was configured with its variables',
  Deploy: 'while Deploy.sh ran',
  PostDeploy: 'while PostDeploy.sh ran',
  DeployFailed: 'while DeployFailed.sh ran',
  switch: 'while the new release was switched in',
  script: 'while the script ran',
};

/** Why a job failed when its connection dropped past the point where it could start again. */
export function lostWhileRunning(machine: string, job: Job, phase: Exclude<JobPhase, 'transfer'>): string {
  const base = `the connection to ${machine} was lost ${PHASE_WORDS[phase]}`;
  if (job.kind !== 'deploy-package') return base;
  if (phase === 'switch') return `${base}; the tentacle reports which release is current when it reconnects`;
  return `${base}; the previous release stays current`;
}

/** Where a restartable job stood when its connection dropped. */
export function lostWhere(phase: JobPhase | null, position: number | null): string {
  if (phase === null) return 'before the job started';
  return position === null ? 'during the transfer' : `during the transfer at ${mib(position)}`;
}

export const packageLabel = (job: Extract<Job, { kind: 'deploy-package' }>): string => `${job.package.id} ${job.package.version}`;
