import type { Command } from 'commander';
import type { StatusRow } from '@cuttle/shared';
import { examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import type { StatusFilter } from '../hub-client.js';
import { checkName } from '../local-validation.js';
import { formatTimestamp, printJson, printLine, renderTable } from '../output.js';

export interface StatusOptions {
  project?: string;
  environment?: string;
  machine?: string;
}

/** Errors of the last attempt are cut to this many characters in the table (`--json` has them whole). */
const MAX_ERROR_CHARS = 60;

/** `in sync`, `drifted (disk: 1.0.2)`, `drifted (disk: none)`, `unknown`. */
export function formatDrift(drift: StatusRow['drift']): string {
  if (drift.state === 'in-sync') return 'in sync';
  if (drift.state === 'unknown') return 'unknown';
  return `drifted (disk: ${drift.onDisk ?? 'none'})`;
}

/** `success 1.4.0`, `failed 1.4.1: Deploy.sh exited with code 3`, or `-`. */
export function formatLastAttempt(attempt: StatusRow['lastAttempt']): string {
  if (attempt === null) return '-';
  const head = `${attempt.state} ${attempt.release}`;
  if (attempt.error === null) return head;
  const error = attempt.error.replace(/\s+/g, ' ').trim();
  return `${head}: ${error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS - 1)}…` : error}`;
}

function compareRows(a: StatusRow, b: StatusRow): number {
  for (const key of ['project', 'environment', 'machine'] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  return 0;
}

/**
 * `GET /api/v1/status`: which release is on which machine. A table sorted by project,
 * environment and machine, with a note under it when machines have drifted; `--json`: `{"items":[...]}`.
 */
export async function runStatus(ctx: CommandContext, options: StatusOptions): Promise<StatusRow[]> {
  const filter: StatusFilter = {};
  if (options.project !== undefined) filter.project = checkName('project', options.project, '--project');
  if (options.environment !== undefined) filter.environment = checkName('environment', options.environment, '--environment');
  if (options.machine !== undefined) filter.machine = checkName('machine', options.machine, '--machine');
  const items = await ctx.hub().listStatus(filter);
  if (ctx.json) {
    printJson(ctx.io, { items });
    return items;
  }
  if (items.length === 0) {
    printLine(ctx.io, Object.keys(filter).length > 0 ? 'nothing matches' : 'nothing deployed yet; deploy with: cuttle deploy --project P --release V --environment E --wait');
    return items;
  }
  const sorted = [...items].sort(compareRows);
  const rows = sorted.map((row) => [
    row.project,
    row.environment,
    row.machine,
    row.release ?? '-',
    formatTimestamp(row.deployedAt),
    row.online ? 'online' : 'offline',
    formatDrift(row.drift),
    formatLastAttempt(row.lastAttempt),
  ]);
  printLine(ctx.io, renderTable(['project', 'environment', 'machine', 'release', 'deployed', 'status', 'drift', 'last attempt'], rows));
  const drifted = sorted.filter((row) => row.drift.state === 'drifted');
  if (drifted.length > 0) {
    const names = drifted.map((row) => `${row.machine} (${row.project} ${row.environment})`).join(', ');
    printLine(ctx.io, `\n${drifted.length} drifted: the release on disk differs from the hub's record on ${names}; deploy again to bring ${drifted.length === 1 ? 'it' : 'them'} back in line`);
  }
  return items;
}

export const statusCommand: CommandDefinition = {
  name: 'status',
  register(parent, invoke) {
    parent
      .command('status')
      .summary('which release is on which machine, per project and environment (drift included)')
      .description(
        'Show, for each machine, project and environment, the release the hub recorded as current, when it was deployed, whether the machine is ' +
          'online, whether its disk agrees (drift), and how the last deployment attempt ended.',
      )
      .option('--project <name>', 'only this project')
      .option('--environment <name>', 'only this environment')
      .option('--machine <name>', 'only this machine')
      .addHelpText('after', examples('cuttle status', 'cuttle status --project Acme --environment Production', 'cuttle status --machine web-01 --json'))
      .action((_flags: StatusOptions, command: Command) =>
        invoke(command, async (ctx) => {
          await runStatus(ctx, command.opts<StatusOptions>());
        }),
      );
  },
};
