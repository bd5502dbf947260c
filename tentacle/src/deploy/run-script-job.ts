import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunScriptJob } from '@cuttle/shared';
import { runLogged } from './deploy-scripts.js';
import { JobFailure } from './job-failure.js';
import { scriptEnv } from './job-env.js';
import type { DeployServices, JobRuntime } from './job-runtime.js';
import { describeExit } from './script-runner.js';

/** Where a run-script job's script and working folder live: `<home>/work/<jobId>.sh` and `<home>/work/<jobId>/`. */
export function scriptJobPaths(work: string, jobId: string): { file: string; dir: string } {
  return { file: path.join(work, `${jobId}.sh`), dir: path.join(work, jobId) };
}

/**
 * A run-script job: the script is written to a file and run with bash in a fresh working folder,
 * both removed afterwards. A non-zero exit is `script-failed`.
 */
export async function runScriptJob(rt: JobRuntime, jobId: string, job: RunScriptJob, services: DeployServices): Promise<null> {
  rt.phase('script');
  const { file, dir } = scriptJobPaths(services.home.work, jobId);
  try {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(file, job.script, { mode: 0o600 });
    const exit = await runLogged(rt, services, file, 'the script', { dir, env: scriptEnv(services.env, job), timeoutSeconds: job.timeoutSeconds }, rt.signal);
    if (exit.code !== 0) throw new JobFailure('script-failed', `the script of step ${JSON.stringify(job.step)} ${describeExit(exit)}`);
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    await rm(file, { force: true }).catch(() => {});
  }
}
