import { Option, type Command } from 'commander';
import type { Variable, VariablePreview } from '@cuttle/shared';
import { collect, examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { ownerLabel } from '../hub-client-variables.js';
import { checkName, parseNameList } from '../local-validation.js';
import { printJson, printLine } from '../output.js';
import { ownerFromFlags, type ScopeFlags } from '../variable-scope.js';
import { renderPreview, renderVariables } from '../variable-view.js';
import { runImportVariables, runRemoveVariable, runSetVariable, type OwnerFlags } from './variables-edit.js';

/** A table (name, value, sensitive, scope), or the hub's `{"variables":[...]}`; sensitive values are masked by the hub. */
export async function runListVariables(ctx: CommandContext, flags: OwnerFlags): Promise<Variable[]> {
  const owner = ownerFromFlags(flags);
  const variables = await ctx.hub().variables.getVariables(owner);
  if (ctx.json) printJson(ctx.io, { variables });
  else if (variables.length === 0) {
    const flag = owner.kind === 'project' ? `--project ${owner.name}` : `--set "${owner.name}"`;
    printLine(ctx.io, `no variables in ${ownerLabel(owner)}; add one with: cuttle variables set ${flag} NAME VALUE`);
  } else printLine(ctx.io, renderVariables(variables));
  return variables;
}

export interface PreviewOptions {
  project: string;
  environment: string;
  machine?: string;
  role?: readonly string[];
}

/** The values a target would get, where each came from and which part of its scope decided. */
export async function runPreviewVariables(ctx: CommandContext, options: PreviewOptions): Promise<VariablePreview> {
  const project = checkName('project', options.project, '--project');
  const environment = checkName('environment', options.environment, '--environment');
  const machine = options.machine === undefined ? undefined : checkName('machine', options.machine, '--machine');
  const roles = parseNameList('role', options.role ?? [], '--role');
  const preview = await ctx.hub().variables.preview(project, { environment, roles, ...(machine === undefined ? {} : { machine }) });
  if (ctx.json) printJson(ctx.io, preview);
  else printLine(ctx.io, renderPreview(preview));
  return preview;
}

interface ScopedOwnerFlags extends OwnerFlags, ScopeFlags {}

function ownerOptions(command: Command): Command {
  return command.option('--project <name>', "the project's own variables").option('--set <name>', 'a shared variable set (created by its first variable)');
}

function scopeOptions(command: Command, verb: string): Command {
  return command
    .option('--environment <name>', `${verb} the value scoped to this environment (repeatable, or comma-separated)`, collect)
    .option('--role <name>', `${verb} the value scoped to machines with this role (repeatable, or comma-separated)`, collect)
    .option('--machine <name>', `${verb} the value scoped to this machine (repeatable, or comma-separated)`, collect);
}

function definedOwner(flags: OwnerFlags): OwnerFlags {
  return { ...(flags.project === undefined ? {} : { project: flags.project }), ...(flags.set === undefined ? {} : { set: flags.set }) };
}

function definedScope(flags: ScopeFlags): ScopeFlags {
  return {
    ...(flags.environment === undefined ? {} : { environment: flags.environment }),
    ...(flags.role === undefined ? {} : { role: flags.role }),
    ...(flags.machine === undefined ? {} : { machine: flags.machine }),
  };
}

interface SetFlags extends ScopedOwnerFlags {
  sensitive?: boolean;
  valueStdin?: boolean;
}

export const variablesCommand: CommandDefinition = {
  name: 'variables',
  register(parent, invoke) {
    const group = parent
      .command('variables')
      .summary("list, set, remove, import and preview a project's (or a variable set's) variables")
      .description(
        'Manage variables (needs an admin key): values scoped per environment, role and machine that the tentacle substitutes into ' +
          'configuration files and passes to scripts. Every command works on a project (--project) or a shared variable set (--set).\n' +
          'A value is identified by its name and its scope: `set` with the same name and scope replaces it, with another scope adds one more value.\n' +
          'Names: letters, digits, ".", ":", "_", "-". Sensitive values are never shown (********).',
      )
      .addHelpText(
        'after',
        examples(
          'cuttle variables list --project Acme',
          'cuttle variables set --project Acme Db.Host prod-db.internal --environment Production',
          "printf '%s' \"$DB_PASSWORD\" | cuttle variables set --project Acme Db.Password --sensitive --value-stdin --environment Production",
          'cuttle variables import --project Acme -f vars.yaml',
          'cuttle variables preview --project Acme --environment Production --machine web-p1',
        ),
      );

    ownerOptions(group.command('list').summary('list the variables (sensitive values masked)'))
      .addHelpText('after', examples('cuttle variables list --project Acme', 'cuttle variables list --set Databases --json > vars.json'))
      .action((_flags: OwnerFlags, command: Command) =>
        invoke(command, async (ctx) => {
          await runListVariables(ctx, definedOwner(command.opts<OwnerFlags>()));
        }),
      );

    scopeOptions(
      ownerOptions(
        group
          .command('set')
          .summary('add a value, or replace the one with the same name and scope')
          .description(
            'Add a value of NAME for the scope given by --environment/--role/--machine (none: the unscoped value), or replace the value with the ' +
              'same name and scope. The whole list is read, changed and sent back (read and changed again if someone else saved it meanwhile). A sensitive value stays sensitive unless --no-sensitive is given. ' +
              'Give secrets with --value-stdin so that they stay out of shell history and process lists.',
          )
          .argument('<name>', 'variable name, as Db.Host or Logging:LogLevel:Default')
          .argument('[value]', 'the value (or --value-stdin)'),
      ),
      'set',
    )
      .option('--value-stdin', 'read the value from standard input (one trailing line break is dropped)')
      .option('--sensitive', 'store the value encrypted; it is never shown again')
      .addOption(new Option('--no-sensitive', 'make a sensitive value an ordinary one'))
      .addHelpText(
        'after',
        examples(
          'cuttle variables set --project Acme Db.Host test-db.internal --environment Test',
          'cuttle variables set --project Acme Db.Host prod-db.internal --environment Production --role db-server',
          "printf '%s' \"$PROD_DB_PASSWORD\" | cuttle variables set --project Acme Db.Password --sensitive --value-stdin --environment Production",
          'cuttle variables set --set Databases Db.Port 5432',
        ),
      )
      .action((name: string, value: string | undefined, _flags: SetFlags, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<SetFlags>();
          await runSetVariable(ctx, {
            ...definedOwner(flags),
            ...definedScope(flags),
            name,
            ...(value === undefined ? {} : { value }),
            ...(flags.valueStdin === true ? { valueStdin: true } : {}),
            ...(flags.sensitive === undefined ? {} : { sensitive: flags.sensitive }),
          });
        }),
      );

    scopeOptions(
      ownerOptions(
        group
          .command('remove')
          .summary('remove the value with this name and scope')
          .description('Remove the value of NAME whose scope is exactly the one given by --environment/--role/--machine (none: the unscoped value), or every value of NAME with --all-scopes.')
          .argument('<name>', 'variable name'),
      ),
      'remove',
    )
      .option('--all-scopes', 'remove every value of the name, whatever its scope')
      .addHelpText('after', examples('cuttle variables remove --project Acme Db.Host --environment Test', 'cuttle variables remove --project Acme Legacy.Url --all-scopes'))
      .action((name: string, _flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<ScopedOwnerFlags & { allScopes?: boolean }>();
          await runRemoveVariable(ctx, { ...definedOwner(flags), ...definedScope(flags), name, ...(flags.allScopes === true ? { allScopes: true } : {}) });
        }),
      );

    ownerOptions(
      group
        .command('import')
        .summary('merge variables from a YAML or JSON file (or replace them all)')
        .description(
          'Read `variables: [{name, value, sensitive?, scope?: {environments?, roles?, machines?}}]` (or a bare list) from a YAML or JSON file, ' +
            'check it locally (every problem is listed, exit 2, nothing is sent), then merge it by name and scope into the list, or replace the whole list with --replace. ' +
            `A value of ******** keeps the stored secret, so the output of \`list --json\` can be edited and imported back.`,
        ),
    )
      .requiredOption('-f, --file <path>', 'the variables file (YAML or JSON)')
      .option('--replace', 'the file becomes the whole list: values not in it are removed')
      .addHelpText('after', examples('cuttle variables import --project Acme -f vars.yaml', 'cuttle variables import --set Databases -f databases.json --replace'))
      .action((_flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<OwnerFlags & { file: string; replace?: boolean }>();
          await runImportVariables(ctx, { ...definedOwner(flags), file: flags.file, ...(flags.replace === true ? { replace: true } : {}) });
        }),
      );

    group
      .command('preview')
      .summary('show the values a deployment target would get, and where each came from')
      .requiredOption('--project <name>', 'the project')
      .requiredOption('--environment <name>', 'the environment deployed to')
      .option('--machine <name>', 'the machine (its roles count too)')
      .option('--role <name>', 'a role of the target (repeatable, or comma-separated)', collect)
      .addHelpText('after', examples('cuttle variables preview --project Acme --environment Production --machine web-p1', 'cuttle variables preview --project Acme --environment Test --role web-server --json'))
      .action((_flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<{ project: string; environment: string; machine?: string; role?: string[] }>();
          await runPreviewVariables(ctx, {
            project: flags.project,
            environment: flags.environment,
            ...(flags.machine === undefined ? {} : { machine: flags.machine }),
            ...(flags.role === undefined ? {} : { role: flags.role }),
          });
        }),
      );
  },
};
