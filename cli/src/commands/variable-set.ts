import type { Command } from 'commander';
import type { Variable } from '@cuttle/shared';
import { examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import type { VariableSetSummary } from '../hub-client-variables.js';
import { formatTimestamp, printJson, printLine, renderTable } from '../output.js';
import { checkSetName } from '../variable-scope.js';
import { renderVariables } from '../variable-view.js';

/** A table (name, variables, updated), or the hub's `{"items":[...]}`. */
export async function runListVariableSets(ctx: CommandContext): Promise<VariableSetSummary[]> {
  const items = await ctx.hub().variables.listSets();
  if (ctx.json) printJson(ctx.io, { items });
  else if (items.length === 0) printLine(ctx.io, 'no variable sets; create one with: cuttle variables set --set NAME VARIABLE VALUE');
  else printLine(ctx.io, renderTable(['name', 'variables', 'updated'], items.map((set) => [set.name, String(set.variableCount), formatTimestamp(set.updatedAt)])));
  return items;
}

/** The set's variables as a table (sensitive values masked), or `{"name","variables"}`. */
export async function runShowVariableSet(ctx: CommandContext, name: string): Promise<Variable[]> {
  const checked = checkSetName(name, 'variable set name');
  const variables = await ctx.hub().variables.getVariables({ kind: 'set', name: checked });
  if (ctx.json) printJson(ctx.io, { name: checked, variables });
  else if (variables.length === 0) printLine(ctx.io, `variable set ${checked} has no variables`);
  else printLine(ctx.io, `variable set ${checked}: ${variables.length} variable${variables.length === 1 ? '' : 's'}\n${renderVariables(variables)}`);
  return variables;
}

/** 409 `variable-set-in-use` while a project includes it (exit 1). */
export async function runRemoveVariableSet(ctx: CommandContext, name: string): Promise<void> {
  const checked = checkSetName(name, 'variable set name');
  await ctx.hub().variables.deleteSet(checked);
  if (ctx.json) printJson(ctx.io, { name: checked, removed: true });
  else printLine(ctx.io, `removed variable set ${checked}`);
}

export const variableSetCommand: CommandDefinition = {
  name: 'variable-set',
  register(parent, invoke) {
    const group = parent
      .command('variable-set')
      .summary('list, show and remove shared variable sets')
      .description(
        'Manage shared variable sets (needs an admin key). A project includes sets with `variableSets: [Name, ...]` in its definition; ' +
          'a set is created and changed with `cuttle variables set|import --set NAME`.\n' +
          'Names: letters, digits, space, ".", "-", "_"; 1-100 characters, starting with a letter or digit.',
      )
      .addHelpText('after', examples('cuttle variable-set list', 'cuttle variable-set show Databases', 'cuttle variable-set remove Databases'));

    group
      .command('list')
      .summary('list the variable sets')
      .addHelpText('after', examples('cuttle variable-set list', 'cuttle variable-set list --json | jq -r ".items[].name"'))
      .action((_flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runListVariableSets(ctx);
        }),
      );

    group
      .command('show')
      .summary("show a variable set's variables (sensitive values masked)")
      .argument('<name>', 'name of the variable set')
      .addHelpText('after', examples('cuttle variable-set show Databases', 'cuttle variable-set show Databases --json'))
      .action((name: string, _flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runShowVariableSet(ctx, name);
        }),
      );

    group
      .command('remove')
      .summary('remove a variable set that no project includes')
      .argument('<name>', 'name of the variable set')
      .addHelpText('after', examples('cuttle variable-set remove Databases'))
      .action((name: string, _flags: unknown, command: Command) => invoke(command, (ctx) => runRemoveVariableSet(ctx, name)));
  },
};
