import type { Command } from 'commander';
import { EXIT, formatLogEntry, type Task, type TaskLogEntry } from '@cuttle/shared';
import { CliError, interrupted } from '../cli-error.js';
import { examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { parseInteger } from '../local-validation.js';
import { printJson, printLine } from '../output.js';
import { describeDeployment, renderTask } from '../task-view.js';
import { readLogToEnd } from '../watch/log-reader.js';
import { DEFAULT_WATCH_TIMING, Liveness, type WatchTiming } from '../watch/retry.js';
import { watchTask } from '../watch/task-watch.js';

/** A task id from the command line: a whole number from 1 (exit 2 otherwise). */
export function parseTaskId(text: string): number {
  return parseInteger(text, 'task id', { min: 1, max: Number.MAX_SAFE_INTEGER });
}

export async function runShowTask(ctx: CommandContext, id: string): Promise<Task> {
  const task = await ctx.hub().getTask(parseTaskId(id));
  if (ctx.json) printJson(ctx.io, task);
  else printLine(ctx.io, renderTask(task));
  return task;
}

/** Asks the hub to stop the task; the tentacles kill running scripts. 409 `task-finished` is exit 1. */
export async function runCancelTask(ctx: CommandContext, id: string): Promise<Task> {
  const task = await ctx.hub().cancelTask(parseTaskId(id));
  if (ctx.json) printJson(ctx.io, task);
  else if (task.state === 'cancelled') printLine(ctx.io, `cancelled task ${task.id} (${describeDeployment(task.deployment)})`);
  else printLine(ctx.io, `asked the hub to cancel task ${task.id} (${describeDeployment(task.deployment)}); it is ${task.state} until its machines stop`);
  return task;
}

export interface TaskLogOptions {
  follow?: boolean;
  /** Only entries after this sequence number. */
  since?: string;
  timing?: Partial<WatchTiming>;
}

/**
 * The task's log on stdout: each entry as the hub formats its text log, or with --json one
 * TaskLogEntry per line. With --follow, entries are shown as they happen until the task ends
 * (exit 0 whatever its outcome); a dropped stream resumes after the last entry shown.
 */
export async function runTaskLog(ctx: CommandContext, id: string, options: TaskLogOptions = {}): Promise<void> {
  const taskId = parseTaskId(id);
  const since = options.since === undefined ? 0 : parseInteger(options.since, '--since', { min: 0, max: Number.MAX_SAFE_INTEGER });
  const print = (entry: TaskLogEntry): void => {
    if (ctx.json) printJson(ctx.io, entry);
    else printLine(ctx.io, formatLogEntry(entry));
  };
  const client = ctx.hub();
  if (options.follow !== true) {
    const stop = new AbortController();
    const onInterrupt = (): void => stop.abort();
    ctx.signal?.addEventListener('abort', onInterrupt, { once: true });
    try {
      await readLogToEnd({
        client: client.derive({ signal: stop.signal }),
        taskId,
        cursor: { lastSeq: since },
        onEntry: print,
        live: new Liveness(ctx.io, client.timeoutMs, `reading the log of task ${taskId}`),
        timing: { ...DEFAULT_WATCH_TIMING, ...options.timing },
        signal: stop.signal,
      });
    } finally {
      ctx.signal?.removeEventListener('abort', onInterrupt);
    }
    if (stop.signal.aborted) throw interrupted();
    return;
  }
  const end = await watchTask({
    client,
    io: ctx.io,
    taskId,
    since,
    listener: { onLog: print, onTask: () => undefined },
    ...(ctx.signal === undefined ? {} : { interrupt: ctx.signal }),
    ...(options.timing === undefined ? {} : { timing: options.timing }),
  });
  if (end.kind !== 'finished') {
    throw new CliError('interrupted', `stopped following task ${taskId}; it goes on on the hub (cancel it with: cuttle task cancel ${taskId})`, {
      exitCode: EXIT.failed,
      details: { taskId },
    });
  }
}

interface LogFlags {
  follow?: boolean;
  since?: string;
}

export const taskCommand: CommandDefinition = {
  name: 'task',
  register(parent, invoke) {
    const group = parent
      .command('task')
      .summary("show a task (a deployment's run), its log, or cancel it")
      .description('Tasks are the runs of deployments and rollbacks: their state, each machine\'s progress, and their log.')
      .addHelpText('after', examples('cuttle task show 12', 'cuttle task log 12 --follow', 'cuttle task cancel 12'));

    group
      .command('show')
      .summary("a task's state and each target machine's state, step and error")
      .argument('<id>', 'the task id (printed by deploy and rollback)')
      .addHelpText('after', examples('cuttle task show 12', 'cuttle task show 12 --json | jq -r .state'))
      .action((id: string, _flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runShowTask(ctx, id);
        }),
      );

    group
      .command('log')
      .summary("a task's log; --follow streams it until the task ends")
      .argument('<id>', 'the task id')
      .option('--follow', 'keep streaming new lines until the task ends')
      .option('--since <seq>', 'only the entries after this sequence number (see --json)')
      .addHelpText('after', examples('cuttle task log 12', 'cuttle task log 12 --follow', 'cuttle task log 12 --json | jq -r "select(.stream == \\"stderr\\") | .text"'))
      .action((id: string, _flags: LogFlags, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<LogFlags>();
          await runTaskLog(ctx, id, { ...(flags.follow === true ? { follow: true } : {}), ...(flags.since === undefined ? {} : { since: flags.since }) });
        }),
      );

    group
      .command('cancel')
      .summary('stop a queued or running task; running scripts are killed')
      .argument('<id>', 'the task id')
      .addHelpText('after', examples('cuttle task cancel 12'))
      .action((id: string, _flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runCancelTask(ctx, id);
        }),
      );
  },
};
