import type { Command } from 'commander';
import { API_KEY_NAME, CreateApiKeyRequestSchema, ScopeSchema, type ApiKeyInfo, type CreatedApiKey, type Scope } from '@cuttle/shared';
import { invalidOption } from '../cli-error.js';
import { collect, examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { formatTimestamp, printJson, printLine, renderTable } from '../output.js';

export interface CreateApiKeyOptions {
  name: string;
  /** Each may be a comma-separated list: `--scope admin,push` or `--scope admin --scope push`. */
  scopes: readonly string[];
}

/** Flattens, trims and de-duplicates `--scope` values; unknown scopes are a usage error. */
export function parseScopes(values: readonly string[]): Scope[] {
  const scopes: Scope[] = [];
  for (const value of values.flatMap((v) => v.split(',')).map((v) => v.trim())) {
    if (value === '') continue;
    const parsed = ScopeSchema.safeParse(value);
    if (!parsed.success) throw invalidOption(`--scope "${value}" is not one of ${ScopeSchema.options.join(', ')}.`, { scope: value });
    if (!scopes.includes(parsed.data)) scopes.push(parsed.data);
  }
  return scopes;
}

function assertKeyName(name: string): void {
  if (!API_KEY_NAME.test(name)) {
    throw invalidOption(`"${name}" is not a valid API key name: letters, digits, ".", "-", "_"; 1-64 characters, starting with a letter or digit.`, { name });
  }
}

/** Creates a key and shows it, the one time the hub reveals it. */
export async function runCreateApiKey(ctx: CommandContext, options: CreateApiKeyOptions): Promise<CreatedApiKey> {
  assertKeyName(options.name);
  const request = CreateApiKeyRequestSchema.safeParse({ name: options.name, scopes: parseScopes(options.scopes) });
  if (!request.success) {
    throw invalidOption(`cannot create the API key: ${request.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`, {
      name: options.name,
    });
  }
  const created = await ctx.hub().createApiKey(request.data);
  if (ctx.json) {
    printJson(ctx.io, created);
    return created;
  }
  printLine(ctx.io, `created API key "${created.name}" (scopes: ${created.scopes.join(', ')})`);
  printLine(ctx.io, '');
  printLine(ctx.io, `    ${created.key}`);
  printLine(ctx.io, '');
  printLine(ctx.io, 'This is the only time the key is shown: store it now (for example as the CI secret CUTTLE_API_KEY).');
  return created;
}

export async function runListApiKeys(ctx: CommandContext): Promise<ApiKeyInfo[]> {
  const items = await ctx.hub().listApiKeys();
  if (ctx.json) printJson(ctx.io, { items });
  else if (items.length === 0) printLine(ctx.io, 'no API keys');
  else {
    const rows = items.map((key) => [key.name, key.scopes.join(','), formatTimestamp(key.createdAt), formatTimestamp(key.lastUsedAt)]);
    printLine(ctx.io, renderTable(['name', 'scopes', 'created', 'last used'], rows));
  }
  return items;
}

export async function runRevokeApiKey(ctx: CommandContext, name: string): Promise<void> {
  assertKeyName(name);
  await ctx.hub().revokeApiKey(name);
  if (ctx.json) printJson(ctx.io, { name, revoked: true });
  else printLine(ctx.io, `revoked API key "${name}"`);
}

interface CreateFlags {
  scope?: string[];
}

export const apiKeyCommand: CommandDefinition = {
  name: 'api-key',
  register(parent, invoke) {
    const group = parent
      .command('api-key')
      .summary('create, list and revoke API keys')
      .description('Manage the hub\'s API keys (needs an admin key). Scopes: "push" may upload packages, "admin" may do everything.')
      .addHelpText('after', examples('cuttle api-key create ci --scope push', 'cuttle api-key list', 'cuttle api-key revoke ci'));

    group
      .command('create')
      .summary('create an API key and print it once')
      .description('Create an API key. The key is printed once, here, and never again: store it right away.')
      .argument('<name>', 'name of the key: letters, digits, ".", "-", "_"')
      .requiredOption('--scope <scope>', 'admin or push (repeatable, or comma-separated)', collect)
      .addHelpText(
        'after',
        examples('cuttle api-key create github-actions --scope push', 'cuttle api-key create ops --scope admin,push', 'cuttle api-key create ci --scope push --json | jq -r .key'),
      )
      .action((name: string, _flags: CreateFlags, command: Command) =>
        invoke(command, async (ctx) => {
          await runCreateApiKey(ctx, { name, scopes: command.opts<CreateFlags>().scope ?? [] });
        }),
      );

    group
      .command('list')
      .summary('list the API keys (never the keys themselves)')
      .addHelpText('after', examples('cuttle api-key list', 'cuttle api-key list --json'))
      .action((_flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runListApiKeys(ctx);
        }),
      );

    group
      .command('revoke')
      .summary('revoke an API key')
      .argument('<name>', 'name of the key')
      .addHelpText('after', examples('cuttle api-key revoke ci'))
      .action((name: string, _flags: unknown, command: Command) => invoke(command, (ctx) => runRevokeApiKey(ctx, name)));
  },
};
