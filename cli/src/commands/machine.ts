import type { Command } from 'commander';
import { UpdateMachineRequestSchema, type HealthCheckResult, type Machine } from '@cuttle/shared';
import { invalidOption, usageError } from '../cli-error.js';
import { collect, examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { checkName, checkRequest, parseNameList } from '../local-validation.js';
import { formatAgo, formatBytes, formatDuration, formatNames, formatTimestamp, printJson, printLine, renderFields } from '../output.js';
import { MAX_TOKEN_MINUTES, runMachineToken } from './machine-token.js';

function describeOs(os: Machine['os']): string {
  if (os === null) return '-';
  return `${os.platform} ${os.release} (${os.arch}), host ${os.hostname}`;
}

/** Every field of a machine, one per line. */
export function renderMachine(machine: Machine, nowMs: number): string {
  const lastSeen = machine.lastSeenAt === null ? 'never' : `${formatTimestamp(machine.lastSeenAt)} (${formatAgo(machine.lastSeenAt, nowMs)})`;
  return renderFields([
    ['name', machine.name],
    ['status', machine.status],
    ['disabled', machine.disabled ? 'yes' : 'no'],
    ['environments', formatNames(machine.environments)],
    ['roles', formatNames(machine.roles)],
    ['last seen', lastSeen],
    ['registered', formatTimestamp(machine.registeredAt)],
    ['version', machine.tentacleVersion ?? '-'],
    ['os', describeOs(machine.os)],
    ['free disk', machine.freeDiskBytes === null ? '-' : formatBytes(machine.freeDiskBytes)],
  ]);
}

export async function runShowMachine(ctx: CommandContext, name: string): Promise<Machine> {
  const machine = await ctx.hub().getMachine(checkName('machine', name));
  if (ctx.json) printJson(ctx.io, machine);
  else printLine(ctx.io, renderMachine(machine, ctx.io.wallClock()));
  return machine;
}

/** Revokes the machine: the hub closes its live connection and its key stops working. */
export async function runRemoveMachine(ctx: CommandContext, name: string): Promise<void> {
  const checked = checkName('machine', name);
  await ctx.hub().deleteMachine(checked);
  if (ctx.json) printJson(ctx.io, { name: checked, removed: true });
  else printLine(ctx.io, `removed machine "${checked}": its key is revoked and its connection closed`);
}

export async function runSetMachineDisabled(ctx: CommandContext, name: string, disabled: boolean): Promise<Machine> {
  const checked = checkName('machine', name);
  const machine = await ctx.hub().updateMachine(checked, { disabled });
  if (ctx.json) printJson(ctx.io, machine);
  else printLine(ctx.io, `${disabled ? 'disabled' : 'enabled'} machine "${machine.name}" (${machine.status})`);
  return machine;
}

export interface SetMachineOptions {
  /** Repeatable or comma-separated; an empty value (`--roles ""`) clears the roles. */
  roles?: readonly string[];
  environments?: readonly string[];
}

export async function runSetMachine(ctx: CommandContext, name: string, options: SetMachineOptions): Promise<Machine> {
  const checked = checkName('machine', name);
  if (options.roles === undefined && options.environments === undefined) {
    throw usageError('machine set needs --roles, --environments or both.', { name: checked });
  }
  const environments = options.environments === undefined ? undefined : parseNameList('environment', options.environments, '--environments');
  if (environments?.length === 0) throw invalidOption('--environments needs at least one environment: a machine always belongs to one.', { name: checked });
  const body = checkRequest(
    UpdateMachineRequestSchema,
    {
      ...(options.roles === undefined ? {} : { roles: parseNameList('role', options.roles, '--roles') }),
      ...(environments === undefined ? {} : { environments }),
    },
    `change the machine "${checked}"`,
  );
  const machine = await ctx.hub().updateMachine(checked, body);
  if (ctx.json) printJson(ctx.io, machine);
  else printLine(ctx.io, `updated machine "${machine.name}": environments ${formatNames(machine.environments)}; roles ${formatNames(machine.roles)}`);
  return machine;
}

/** A round trip to the tentacle; offline (409) and timed out (504) are the hub's errors, exit 1. */
export async function runHealthCheck(ctx: CommandContext, name: string): Promise<HealthCheckResult> {
  const result = await ctx.hub().healthCheckMachine(checkName('machine', name));
  if (ctx.json) printJson(ctx.io, result);
  else {
    const disk = result.freeDiskBytes === null ? 'unknown' : formatBytes(result.freeDiskBytes);
    printLine(
      ctx.io,
      `machine "${result.name}" is healthy: round trip ${Math.round(result.roundTripMs)} ms, free disk ${disk}, up ${formatDuration(result.uptimeSeconds)}`,
    );
  }
  return result;
}

interface TokenFlags {
  environment?: string[];
  role?: string[];
  expiresInMinutes?: string;
}

interface SetFlags {
  roles?: string[];
  environments?: string[];
}

export const machineCommand: CommandDefinition = {
  name: 'machine',
  register(parent, invoke) {
    const group = parent
      .command('machine')
      .summary('make registration tokens; show, change, health-check and remove machines')
      .description('Manage one machine (a target server running a tentacle); needs an admin key. `cuttle machines` lists them all.')
      .addHelpText(
        'after',
        examples('cuttle machine token --environment Test --role web-server', 'cuttle machine show web-01', 'cuttle machine health-check web-01', 'cuttle machine remove web-01'),
      );

    group
      .command('token')
      .summary('create a one-time registration token and print the register command')
      .description(
        'Create a one-time registration token for a new tentacle and print it once, with the `cuttle-tentacle register` command to run on the target server. ' +
          'The tentacle URL uses the host of --hub and the hub\'s tentacle port; the hub\'s certificate fingerprint is pinned.',
      )
      .option('--environment <name>', 'environments the tentacle may join (repeatable, or comma-separated; default: any)', collect)
      .option('--role <name>', 'roles the tentacle may take (repeatable, or comma-separated; default: any)', collect)
      .option('--expires-in-minutes <n>', `lifetime of the token, 1 to ${MAX_TOKEN_MINUTES} (default: the hub's)`)
      .addHelpText('after', examples('cuttle machine token --environment Test --role web-server', 'cuttle machine token --environment Production --role web,api --json | jq -r .token'))
      .action((_flags: TokenFlags, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<TokenFlags>();
          await runMachineToken(ctx, { environments: flags.environment ?? [], roles: flags.role ?? [], expiresInMinutes: flags.expiresInMinutes });
        }),
      );

    group
      .command('show')
      .summary('show everything the hub knows about a machine')
      .argument('<name>', 'name of the machine')
      .addHelpText('after', examples('cuttle machine show web-01', 'cuttle machine show web-01 --json'))
      .action((name: string, _flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runShowMachine(ctx, name);
        }),
      );

    group
      .command('remove')
      .summary('revoke a machine: its connection closes and its key stops working')
      .argument('<name>', 'name of the machine')
      .addHelpText('after', examples('cuttle machine remove web-01'))
      .action((name: string, _flags: unknown, command: Command) => invoke(command, (ctx) => runRemoveMachine(ctx, name)));

    for (const [verb, disabled] of [
      ['enable', false],
      ['disable', true],
    ] as const) {
      group
        .command(verb)
        .summary(disabled ? 'disable a machine (its connection closes and it cannot connect until enabled)' : 'enable a disabled machine again')
        .argument('<name>', 'name of the machine')
        .addHelpText('after', examples(`cuttle machine ${verb} web-01`))
        .action((name: string, _flags: unknown, command: Command) =>
          invoke(command, async (ctx) => {
            await runSetMachineDisabled(ctx, name, disabled);
          }),
        );
    }

    group
      .command('set')
      .summary("change a machine's roles or environments")
      .description("Replace a machine's roles and/or environments (each list replaces the old one; --roles \"\" removes every role).")
      .argument('<name>', 'name of the machine')
      .option('--roles <names>', 'new roles (comma-separated, or repeated)', collect)
      .option('--environments <names>', 'new environments, at least one (comma-separated, or repeated)', collect)
      .addHelpText('after', examples('cuttle machine set web-01 --roles web-server,api', 'cuttle machine set web-01 --environments Staging,Production'))
      .action((name: string, _flags: SetFlags, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<SetFlags>();
          await runSetMachine(ctx, name, { roles: flags.roles, environments: flags.environments });
        }),
      );

    group
      .command('health-check')
      .summary('check now that the tentacle answers (exit 1 when offline or timed out)')
      .argument('<name>', 'name of the machine')
      .addHelpText('after', examples('cuttle machine health-check web-01'))
      .action((name: string, _flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runHealthCheck(ctx, name);
        }),
      );
  },
};
