import type { Command } from 'commander';
import { CreateEnvironmentRequestSchema, UpdateEnvironmentRequestSchema, type Environment } from '@cuttle/shared';
import { examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { checkName, checkRequest, parseInteger } from '../local-validation.js';
import { formatTimestamp, printJson, printLine, renderTable } from '../output.js';

/** Largest position the CLI accepts: far more environments than any hub keeps. */
export const MAX_POSITION = 1_000_000;

export interface CreateEnvironmentOptions {
  name: string;
  description?: string;
  /** Text as given on the command line; a whole number >= 0. */
  position?: string;
}

function parsePosition(text: string): number {
  return parseInteger(text, '--position', { min: 0, max: MAX_POSITION });
}

export async function runCreateEnvironment(ctx: CommandContext, options: CreateEnvironmentOptions): Promise<Environment> {
  const body = checkRequest(
    CreateEnvironmentRequestSchema,
    {
      name: checkName('environment', options.name),
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(options.position === undefined ? {} : { position: parsePosition(options.position) }),
    },
    'create the environment',
  );
  const created = await ctx.hub().createEnvironment(body);
  if (ctx.json) printJson(ctx.io, created);
  else printLine(ctx.io, `created environment "${created.name}" (position ${created.position})`);
  return created;
}

/** The environments in deployment order: a table, or the hub's `{"items":[...]}`. */
export async function runListEnvironments(ctx: CommandContext): Promise<Environment[]> {
  const items = await ctx.hub().listEnvironments();
  if (ctx.json) printJson(ctx.io, { items });
  else if (items.length === 0) printLine(ctx.io, 'no environments; create one with: cuttle env create Test');
  else {
    const rows = items.map((env) => [String(env.position), env.name, formatTimestamp(env.createdAt), env.description]);
    printLine(ctx.io, renderTable(['position', 'name', 'created', 'description'], rows));
  }
  return items;
}

/** `name` is checked already; `changes` is checked here with the shared schema. */
async function updateEnvironment(ctx: CommandContext, name: string, changes: Record<string, unknown>): Promise<Environment> {
  const body = checkRequest(UpdateEnvironmentRequestSchema, changes, `change the environment "${name}"`);
  return ctx.hub().updateEnvironment(name, body);
}

export async function runRenameEnvironment(ctx: CommandContext, name: string, newName: string): Promise<Environment> {
  const current = checkName('environment', name);
  const updated = await updateEnvironment(ctx, current, { name: checkName('environment', newName, 'new name') });
  if (ctx.json) printJson(ctx.io, updated);
  else printLine(ctx.io, `renamed environment "${current}" to "${updated.name}"`);
  return updated;
}

export async function runMoveEnvironment(ctx: CommandContext, name: string, position: string): Promise<Environment> {
  const current = checkName('environment', name);
  const updated = await updateEnvironment(ctx, current, { position: parsePosition(position) });
  if (ctx.json) printJson(ctx.io, updated);
  else printLine(ctx.io, `moved environment "${updated.name}" to position ${updated.position}`);
  return updated;
}

export async function runRemoveEnvironment(ctx: CommandContext, name: string): Promise<void> {
  const checked = checkName('environment', name);
  await ctx.hub().deleteEnvironment(checked);
  if (ctx.json) printJson(ctx.io, { name: checked, removed: true });
  else printLine(ctx.io, `removed environment "${checked}"`);
}

interface CreateFlags {
  description?: string;
  position?: string;
}

interface MoveFlags {
  position: string;
}

export const envCommand: CommandDefinition = {
  name: 'env',
  register(parent, invoke) {
    const group = parent
      .command('env')
      .alias('environment')
      .summary('create, list, rename, reorder and remove environments')
      .description(
        'Manage environments (needs an admin key). Their order is the deployment order: Test before Staging before Production.\n' +
          'Names: letters, digits, space, ".", "-", "_"; 1-63 characters, starting with a letter or digit.',
      )
      .addHelpText('after', examples('cuttle env create Test', 'cuttle env list', 'cuttle env move Staging --position 1', 'cuttle env remove Test'));

    group
      .command('create')
      .summary('create an environment')
      .argument('<name>', 'name of the environment')
      .option('--description <text>', 'what the environment is for')
      .option('--position <n>', 'place in the deployment order, 0 first (default: last)')
      .addHelpText('after', examples('cuttle env create Production --description "customer-facing"', 'cuttle env create Staging --position 1'))
      .action((name: string, _flags: CreateFlags, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<CreateFlags>();
          await runCreateEnvironment(ctx, { name, description: flags.description, position: flags.position });
        }),
      );

    group
      .command('list')
      .summary('list the environments in deployment order')
      .addHelpText('after', examples('cuttle env list', 'cuttle env list --json | jq -r ".items[].name"'))
      .action((_flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runListEnvironments(ctx);
        }),
      );

    group
      .command('rename')
      .summary('rename an environment')
      .argument('<name>', 'current name')
      .argument('<new-name>', 'new name')
      .addHelpText('after', examples('cuttle env rename QA Test'))
      .action((name: string, newName: string, _flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runRenameEnvironment(ctx, name, newName);
        }),
      );

    group
      .command('move')
      .summary('move an environment to another place in the deployment order')
      .argument('<name>', 'name of the environment')
      .requiredOption('--position <n>', 'new place in the deployment order, 0 first')
      .addHelpText('after', examples('cuttle env move Staging --position 1'))
      .action((name: string, _flags: MoveFlags, command: Command) =>
        invoke(command, async (ctx) => {
          await runMoveEnvironment(ctx, name, command.opts<MoveFlags>().position);
        }),
      );

    group
      .command('remove')
      .summary('remove an environment (refused while machines or releases use it)')
      .argument('<name>', 'name of the environment')
      .addHelpText('after', examples('cuttle env remove Test'))
      .action((name: string, _flags: unknown, command: Command) => invoke(command, (ctx) => runRemoveEnvironment(ctx, name)));
  },
};
