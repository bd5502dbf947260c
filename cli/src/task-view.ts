import type { Deployment, Task, TaskTarget } from '@cuttle/shared';
import { formatBytes, formatNames, formatTimestamp, renderFields, renderTable } from './output.js';

/** How deployments, tasks and their targets read on a terminal (`deploy`, `rollback`, `task show`). */

/** `Acme 1.4.0 to Test`, with the machines when the deployment names some. */
export function describeDeployment(deployment: Deployment): string {
  const machines = deployment.machines === null ? '' : ` (machines ${deployment.machines.join(', ')})`;
  return `${deployment.project} ${deployment.release} to ${deployment.environment}${machines}`;
}

/** `deployment 7` or `rollback 8`. */
export function deploymentNoun(deployment: Deployment): string {
  return `${deployment.rollbackFrom === null ? 'deployment' : 'rollback'} ${deployment.id}`;
}

/** The line printed once a deployment (or rollback) is created. */
export function createdLine(deployment: Deployment): string {
  const replaces = deployment.rollbackFrom === null ? '' : `, replacing ${deployment.rollbackFrom}`;
  return `created ${deploymentNoun(deployment)}: ${describeDeployment(deployment)}${replaces} (task ${deployment.taskId})`;
}

/** `Deploy web (transfer)`, `Deploy web`, or `-` before the target starts. */
export function targetWhere(target: TaskTarget): string {
  if (target.step === null) return target.phase === null ? '-' : target.phase;
  return target.phase === null ? target.step : `${target.step} (${target.phase})`;
}

/** `Deploy.sh exited with code 3 (script-failed)`, or the code alone, or an empty string. */
export function targetError(target: TaskTarget): string {
  if (target.error === null) return target.errorCode ?? '';
  return target.errorCode === null ? target.error : `${target.error} (${target.errorCode})`;
}

/** What a target is doing in one phrase: `running Deploy web (transfer)`, `failed in Deploy web (Deploy): ...`. */
export function describeTarget(target: TaskTarget): string {
  const error = targetError(target);
  const where = targetWhere(target);
  switch (target.state) {
    case 'running':
    case 'waiting':
      return where === '-' ? target.state : `${target.state} ${where}`;
    case 'failed':
    case 'cancelled': {
      const at = where === '-' ? '' : ` in ${where}`;
      return `${target.state}${at}${error === '' ? '' : `: ${error}`}`;
    }
    case 'skipped':
      return error === '' ? 'skipped' : `skipped: ${error}`;
    default:
      return target.state;
  }
}

/** The targets that did not succeed and were not skipped on purpose. */
export function failedTargets(task: Task): TaskTarget[] {
  return task.targets.filter((target) => target.state === 'failed' || target.state === 'cancelled');
}

/** `3 success, 1 failed`: targets counted by state, in a fixed order. */
export function countTargets(targets: readonly TaskTarget[]): string {
  const order = ['success', 'failed', 'cancelled', 'skipped', 'running', 'waiting', 'pending'] as const;
  const parts = order.map((state) => [state, targets.filter((target) => target.state === state).length] as const).filter(([, count]) => count > 0);
  return parts.length === 0 ? 'no targets' : parts.map(([state, count]) => `${count} ${state}`).join(', ');
}

/** `machine  state  step  sent  error` rows, sorted by machine name. */
export function renderTargets(targets: readonly TaskTarget[]): string {
  const rows = [...targets]
    .sort((a, b) => (a.machine < b.machine ? -1 : a.machine > b.machine ? 1 : 0))
    .map((target) => [target.machine, target.state, targetWhere(target), target.bytesSent === 0 ? '-' : formatBytes(target.bytesSent), targetError(target) || '-']);
  return renderTable(['machine', 'state', 'step', 'sent', 'error'], rows);
}

/** Every field of a task, then its targets. */
export function renderTask(task: Task): string {
  const deployment = task.deployment;
  const rollback = deployment.rollbackFrom === null ? '' : `, rollback from ${deployment.rollbackFrom}`;
  const error = task.error === null ? (task.errorCode ?? '-') : task.errorCode === null ? task.error : `${task.error} (${task.errorCode})`;
  const fields = renderFields([
    ['task', String(task.id)],
    ['description', task.description],
    ['state', task.cancelRequested && !['success', 'failed', 'cancelled'].includes(task.state) ? `${task.state} (cancel requested)` : task.state],
    ['deployment', `${deployment.id}: ${deployment.project} ${deployment.release} to ${deployment.environment}${rollback}`],
    ['machines', deployment.machines === null ? 'every matching machine' : formatNames(deployment.machines)],
    ['skip offline', deployment.skipOffline ? 'yes' : 'no'],
    ['by', deployment.createdBy ?? '-'],
    ['created', formatTimestamp(task.createdAt)],
    ['started', formatTimestamp(task.startedAt)],
    ['finished', formatTimestamp(task.finishedAt)],
    ['error', error],
  ]);
  if (task.targets.length === 0) return `${fields}\ntargets: none`;
  const table = renderTargets(task.targets)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return `${fields}\ntargets (${countTargets(task.targets)}):\n${table}`;
}

/** Targets by machine name, for comparing two answers of a poll. */
export function targetsByMachine(task: Task | undefined): Map<string, TaskTarget> {
  return new Map((task?.targets ?? []).map((target) => [target.machine, target]));
}
