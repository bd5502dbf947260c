import { stat } from 'node:fs/promises';
import path from 'node:path';
import { JobFailure } from './job-failure.js';
import type { DeployServices, JobRuntime } from './job-runtime.js';
import { seconds } from './job-runtime.js';
import { describeExit, runScript, type ScriptExit } from './script-runner.js';

/** The scripts of a package, in the order they run; each is optional. */
export const DEPLOY_SCRIPT_PHASES = ['PreDeploy', 'Deploy', 'PostDeploy'] as const;
export const DEPLOY_FAILED_SCRIPT = 'DeployFailed.sh';

export interface ScriptPlace {
  dir: string;
  env: NodeJS.ProcessEnv;
  timeoutSeconds: number;
}

/** Runs `<name>` from the release root when it is there; a non-zero exit is JobFailure `script-failed`. */
export async function runPackageScript(rt: JobRuntime, services: DeployServices, name: string, place: ScriptPlace, signal: AbortSignal): Promise<boolean> {
  const file = path.join(place.dir, name);
  const info = await stat(file).catch(() => null);
  if (info === null || !info.isFile()) return false;
  const exit = await runLogged(rt, services, file, name, place, signal);
  if (exit.code !== 0) throw new JobFailure('script-failed', `${name} ${describeExit(exit)}`);
  return true;
}

/** Runs one script with its output going to the job log, and logs how it ended. */
export async function runLogged(rt: JobRuntime, services: DeployServices, file: string, name: string, place: ScriptPlace, signal: AbortSignal): Promise<ScriptExit> {
  rt.log.info(`running ${name}`);
  const started = performance.now();
  try {
    const exit = await runScript({
      file,
      name,
      cwd: place.dir,
      env: place.env,
      timeoutSeconds: place.timeoutSeconds,
      signal,
      output: (stream, line) => rt.log.line(stream, line),
      congested: () => rt.log.congested(),
      killGraceMs: services.defaults.killGraceMs,
      outputDrainMs: services.defaults.outputDrainMs,
      groups: services.groups,
      records: services.records,
      jobId: rt.jobId,
      discardingOutput: () => rt.log.droppingOutput,
      lineReadChars: rt.log.lineReadChars,
    });
    const line = `${name} ${describeExit(exit)} after ${seconds(exit.durationMs)}`;
    if (exit.code === 0) rt.log.info(line);
    else rt.log.error(line);
    return exit;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    rt.log.error(`${name} was stopped after ${seconds(performance.now() - started)}: ${why}`);
    throw error;
  }
}
