import { EXIT, type Deployment, type Task } from '@cuttle/shared';
import { CliError, interrupted } from './cli-error.js';
import type { CommandContext } from './command-kit.js';
import type { HubClient } from './hub-client.js';
import { printJson, printLine } from './output.js';
import { countTargets, createdLine, deploymentNoun, describeDeployment, describeTarget, failedTargets } from './task-view.js';
import { watchTask, type WatchEnd } from './watch/task-watch.js';
import type { WatchTiming } from './watch/retry.js';
import { createWaitRenderer } from './watch/wait-renderer.js';

/** The deploy and rollback commands' shared half: report what was created and, with --wait, follow it to its end. */

export interface WaitSettings {
  /** Stop waiting after this long (`--timeout`); none: until the task ends. */
  limitMs?: number;
  timing?: Partial<WatchTiming>;
}

/** Without --wait: the created line and how to follow it, or the Deployment as one JSON document. */
export function reportCreated(ctx: CommandContext, deployment: Deployment, waiting: boolean): void {
  if (ctx.json) {
    printJson(ctx.io, waiting ? { event: 'created', deployment } : deployment);
    return;
  }
  printLine(ctx.io, createdLine(deployment));
  if (!waiting) printLine(ctx.io, `follow it with: cuttle task log ${deployment.taskId} --follow`);
}

/**
 * Follows the deployment's task to its end with the renderer the output mode calls for. Returns
 * the task when it succeeded; throws `deployment-failed` or `deployment-cancelled` (exit 1) after
 * printing the targets that failed, `wait-timeout` (exit 1) when `limitMs` passed, `interrupted`
 * (exit 1) on Ctrl-C, and exit 3 when the hub stayed away for longer than the client's timeout.
 * The task keeps running on the hub whenever the wait stops early.
 */
export async function waitForDeployment(ctx: CommandContext, client: HubClient, deployment: Deployment, settings: WaitSettings = {}): Promise<Task> {
  const taskId = deployment.taskId;
  const renderer = createWaitRenderer(ctx.io, ctx.json, taskId);
  let end: WatchEnd;
  try {
    end = await watchTask({
      client,
      io: ctx.io,
      taskId,
      listener: renderer,
      ...(settings.limitMs === undefined ? {} : { limitMs: settings.limitMs }),
      ...(ctx.signal === undefined ? {} : { interrupt: ctx.signal }),
      ...(settings.timing === undefined ? {} : { timing: settings.timing }),
    });
  } catch (error) {
    renderer.end(undefined);
    throw error;
  }
  renderer.end(end.task);
  const noun = deploymentNoun(deployment);
  if (end.kind !== 'finished') {
    const state = end.task?.state ?? 'queued';
    const hints = `follow it with: cuttle task log ${taskId} --follow; cancel it with: cuttle task cancel ${taskId}`;
    if (end.kind === 'interrupted') {
      const error = interrupted();
      throw new CliError(error.code, `stopped waiting; task ${taskId} (${noun}) goes on (${state}) on the hub. ${hints}`, {
        exitCode: EXIT.failed,
        details: { deploymentId: deployment.id, taskId, state },
      });
    }
    const seconds = (settings.limitMs ?? 0) / 1000;
    throw new CliError('wait-timeout', `stopped waiting after ${seconds} s; task ${taskId} (${noun}) is still ${state} on the hub. ${hints}`, {
      exitCode: EXIT.failed,
      details: { deploymentId: deployment.id, taskId, state, timeoutSeconds: seconds },
    });
  }
  const task = end.task;
  if (ctx.json) printJson(ctx.io, { event: 'finished', state: task.state, task });
  else printSummary(ctx, deployment, task);
  if (task.state === 'success') return task;
  const failed = failedTargets(task).map((target) => ({ machine: target.machine, state: target.state, errorCode: target.errorCode, error: target.error }));
  const details = { deploymentId: deployment.id, taskId, state: task.state, errorCode: task.errorCode, failedTargets: failed };
  if (task.state === 'cancelled') throw new CliError('deployment-cancelled', `${noun} (task ${taskId}) of ${describeDeployment(deployment)} was cancelled`, { exitCode: EXIT.failed, details });
  const reason = task.error ?? (failed.length > 0 ? `${failed.length} of ${task.targets.length} targets failed` : 'the task failed');
  throw new CliError('deployment-failed', `${noun} (task ${taskId}) of ${describeDeployment(deployment)} failed: ${reason}`, { exitCode: EXIT.failed, details });
}

/** Success: one line. Failure: the task's error and each failed target with its error. */
function printSummary(ctx: CommandContext, deployment: Deployment, task: Task): void {
  const noun = deploymentNoun(deployment);
  const counts = countTargets(task.targets);
  if (task.state === 'success') {
    printLine(ctx.io, `${noun} succeeded: ${describeDeployment(deployment)} (task ${task.id}; ${counts})`);
    return;
  }
  printLine(ctx.io, `${noun} ${task.state}: ${describeDeployment(deployment)} (task ${task.id}; ${counts})`);
  const reason = task.error === null ? task.errorCode : task.errorCode === null ? task.error : `${task.error} (${task.errorCode})`;
  if (reason !== null) printLine(ctx.io, `reason: ${reason}`);
  const failed = failedTargets(task);
  if (failed.length === 0) return;
  const width = Math.max(...failed.map((target) => target.machine.length));
  printLine(ctx.io, `${task.state === 'cancelled' ? 'targets not finished' : 'failed targets'}:`);
  for (const target of failed) printLine(ctx.io, `  ${target.machine.padEnd(width)}  ${describeTarget(target)}`);
  printLine(ctx.io, `the log: cuttle task log ${task.id}`);
}
