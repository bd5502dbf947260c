import type { Command } from 'commander';
import { MachineStatusSchema, type Machine } from '@cuttle/shared';
import { invalidOption } from '../cli-error.js';
import { examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import type { MachineFilter } from '../hub-client.js';
import { checkName } from '../local-validation.js';
import { formatAgo, formatBytes, printJson, printLine, renderTable } from '../output.js';

export interface MachinesOptions {
  environment?: string;
  role?: string;
  /** online or offline */
  status?: string;
}

/** "online", "offline", or with the disabled flag "online (disabled)". */
export function machineStatus(machine: Machine): string {
  return machine.disabled ? `${machine.status} (disabled)` : machine.status;
}

export function parseMachineFilter(options: MachinesOptions): MachineFilter {
  const filter: MachineFilter = {};
  if (options.environment !== undefined) filter.environment = checkName('environment', options.environment, '--environment');
  if (options.role !== undefined) filter.role = checkName('role', options.role, '--role');
  if (options.status !== undefined) {
    const status = MachineStatusSchema.safeParse(options.status);
    if (!status.success) throw invalidOption(`--status "${options.status}" is not one of ${MachineStatusSchema.options.join(', ')}.`, { status: options.status });
    filter.status = status.data;
  }
  return filter;
}

function byName(a: Machine, b: Machine): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The machines (optionally filtered): a table sorted by name, or the hub's `{"items":[...]}`. */
export async function runMachines(ctx: CommandContext, options: MachinesOptions): Promise<Machine[]> {
  const filter = parseMachineFilter(options);
  const items = await ctx.hub().listMachines(filter);
  if (ctx.json) {
    printJson(ctx.io, { items });
    return items;
  }
  if (items.length === 0) {
    const filtered = Object.keys(filter).length > 0;
    printLine(ctx.io, filtered ? 'no machines match' : 'no machines; register one with a token from: cuttle machine token');
    return items;
  }
  const now = ctx.io.wallClock();
  const rows = [...items]
    .sort(byName)
    .map((machine) => [
      machine.name,
      machineStatus(machine),
      machine.environments.join(',') || '-',
      machine.roles.join(',') || '-',
      formatAgo(machine.lastSeenAt, now),
      machine.tentacleVersion ?? '-',
      machine.freeDiskBytes === null ? '-' : formatBytes(machine.freeDiskBytes),
    ]);
  printLine(ctx.io, renderTable(['name', 'status', 'environments', 'roles', 'last seen', 'version', 'free disk'], rows));
  return items;
}

export const machinesCommand: CommandDefinition = {
  name: 'machines',
  register(parent, invoke) {
    parent
      .command('machines')
      .summary('list the machines (tentacles) and whether they are online')
      .description('List the registered machines: status, environments, roles, when the hub last heard from them, tentacle version and free disk.')
      .option('--environment <name>', 'only machines in this environment')
      .option('--role <name>', 'only machines with this role')
      .option('--status <status>', 'only online or only offline machines')
      .addHelpText(
        'after',
        examples('cuttle machines', 'cuttle machines --environment Production --role web-server', 'cuttle machines --status offline --json | jq -r ".items[].name"'),
      )
      .action((_flags: MachinesOptions, command: Command) =>
        invoke(command, async (ctx) => {
          await runMachines(ctx, command.opts<MachinesOptions>());
        }),
      );
  },
};
