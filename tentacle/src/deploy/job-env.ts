import type { Job } from '@cuttle/shared';

/**
 * The environment of a deploy script or run-script job: the tentacle's own, plus what the job is
 * about. Package variables (CUTTLE_PACKAGE_*, CUTTLE_RELEASE_DIR) only for deploy-package jobs.
 */
export function scriptEnv(base: NodeJS.ProcessEnv, job: Job, releaseDir?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    CUTTLE_PROJECT: job.project,
    CUTTLE_RELEASE: job.release,
    CUTTLE_ENVIRONMENT: job.environment,
    CUTTLE_MACHINE: job.machine,
    CUTTLE_STEP: job.step,
    CUTTLE_DEPLOYMENT_ID: String(job.deploymentId),
    CUTTLE_TASK_ID: String(job.taskId),
  };
  if (job.kind === 'deploy-package') {
    env.CUTTLE_PACKAGE_ID = job.package.id;
    env.CUTTLE_PACKAGE_VERSION = job.package.version;
    if (releaseDir !== undefined) env.CUTTLE_RELEASE_DIR = releaseDir;
  } else {
    // a tentacle started from a deploy script must not hand its package variables on
    delete env.CUTTLE_PACKAGE_ID;
    delete env.CUTTLE_PACKAGE_VERSION;
    delete env.CUTTLE_RELEASE_DIR;
  }
  return env;
}
