import { variableEnvName, type Job } from '@cuttle/shared';

const VARIABLE_PREFIX = 'CUTTLE_VAR_';

/**
 * The environment of a deploy script or run-script job: the tentacle's own, plus what the job is
 * about. Package variables (CUTTLE_PACKAGE_*, CUTTLE_RELEASE_DIR) only for deploy-package jobs.
 * Every job variable as variableEnvName(name) (CUTTLE_VAR_...); those the tentacle itself was
 * started with are dropped, and a value with a NUL character (which no environment can hold) is left out.
 */
export function scriptEnv(base: NodeJS.ProcessEnv, job: Job, releaseDir?: string): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(base).filter(([key]) => !key.startsWith(VARIABLE_PREFIX)));
  const variables: NodeJS.ProcessEnv = {};
  for (const variable of job.variables ?? []) {
    if (!variable.value.includes('\0')) variables[variableEnvName(variable.name)] = variable.value;
  }
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    ...variables,
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
