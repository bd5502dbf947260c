import { EXIT, SENSITIVE_MASK, VariableSchema, type Variable } from '@cuttle/shared';
import { CliError, invalidOption, usageError } from '../cli-error.js';
import type { CommandContext } from '../command-kit.js';
import { ownerLabel, type VariableOwner } from '../hub-client-variables.js';
import { checkRequest } from '../local-validation.js';
import { printJson, printLine } from '../output.js';
import { readValueFromStdin } from '../stdin-value.js';
import { updateVariables } from '../variables-update.js';
import { formatScope, ownerFromFlags, scopeFromFlags, scopeSuffix, variableKey, type ScopeFlags } from '../variable-scope.js';
import { displayValue, maskedVariable } from '../variable-view.js';

/**
 * `variables set`, `remove` and `import`: read-modify-write of the whole list. The list is read
 * (sensitive values come back as the mask, and a PUT that sends the mask keeps the stored
 * secret), changed by (name, scope), and sent back whole, with `If-Match`: a concurrent change
 * makes the command read and apply its change again (variables-update.ts).
 */

/** Bytes read from stdin at most; the shared schema then checks the value's length. */
const MAX_STDIN_BYTES = 1024 * 1024;

export interface OwnerFlags {
  project?: string;
  set?: string;
}

/** `{"project":"Acme"}` or `{"set":"Databases"}` for `--json` output. */
function ownerJson(owner: VariableOwner): Record<string, string> {
  return owner.kind === 'project' ? { project: owner.name } : { set: owner.name };
}

/**
 * A variable that was sensitive stays sensitive unless told otherwise (`--no-sensitive`,
 * `sensitive: false`): replacing a secret's value must never publish it by accident.
 */
function withInheritedSensitivity(entry: Variable, existing: Variable | undefined): Variable {
  const sensitive = entry.sensitive ?? (existing?.sensitive === true ? true : undefined);
  const base: Variable = { name: entry.name, value: entry.value, ...(entry.scope === undefined ? {} : { scope: entry.scope }) };
  return sensitive === undefined ? base : { ...base, sensitive };
}

export interface MergeResult {
  variables: Variable[];
  added: number;
  updated: number;
  removed: number;
}

/**
 * The incoming entries merged into the list by (name, scope): a match is replaced in place,
 * anything else appended. With `replace`, the list becomes the incoming entries, in their order.
 * Either way an entry that leaves `sensitive` out keeps the stored one's.
 */
export function mergeVariables(existing: readonly Variable[], incoming: readonly Variable[], replace: boolean): MergeResult {
  const byKey = new Map(existing.map((variable) => [variableKey(variable), variable]));
  const incomingKeys = new Set(incoming.map(variableKey));
  let added = 0;
  let updated = 0;
  const resolved = incoming.map((entry) => {
    const old = byKey.get(variableKey(entry));
    if (old === undefined) added++;
    else updated++;
    return withInheritedSensitivity(entry, old);
  });
  if (replace) {
    return { variables: resolved, added, updated, removed: existing.filter((variable) => !incomingKeys.has(variableKey(variable))).length };
  }
  const resolvedByKey = new Map(resolved.map((variable) => [variableKey(variable), variable]));
  const merged = existing.map((variable) => resolvedByKey.get(variableKey(variable)) ?? variable);
  const existingKeys = new Set(byKey.keys());
  merged.push(...resolved.filter((variable) => !existingKeys.has(variableKey(variable))));
  return { variables: merged, added, updated, removed: 0 };
}

export interface SetVariableOptions extends OwnerFlags, ScopeFlags {
  name: string;
  /** The VALUE argument; exactly one of it and `valueStdin`. */
  value?: string;
  valueStdin?: boolean;
  /** true: --sensitive, false: --no-sensitive, undefined: as stored (new: not sensitive). */
  sensitive?: boolean;
}

export interface SetVariableResult {
  action: 'added' | 'updated';
  variable: Variable;
}

/** Adds the value of NAME for the scope the flags name, or replaces the one with the same name and scope. */
export async function runSetVariable(ctx: CommandContext, options: SetVariableOptions): Promise<SetVariableResult> {
  const owner = ownerFromFlags(options);
  const scope = scopeFromFlags(options);
  if (options.valueStdin === true && options.value !== undefined) throw usageError('give the value either as an argument or with --value-stdin, not both.');
  if (options.valueStdin !== true && options.value === undefined) throw usageError('the value is missing: give it as an argument, or pipe it in with --value-stdin (better for secrets).');
  const value = options.valueStdin === true ? await readValueFromStdin(ctx.io, MAX_STDIN_BYTES) : (options.value ?? '');
  if (value === SENSITIVE_MASK) throw invalidOption(`the value ${SENSITIVE_MASK} is what the hub shows instead of a secret; it cannot be set as a value.`, { name: options.name });
  const entry = checkRequest(
    VariableSchema,
    { name: options.name, value, ...(options.sensitive === undefined ? {} : { sensitive: options.sensitive }), ...(scope === undefined ? {} : { scope }) },
    `set variable ${options.name}`,
  );
  if (options.sensitive === true && options.valueStdin !== true) {
    ctx.io.stderr.write('note: a value given on the command line is seen by shell history and process lists; --value-stdin keeps a secret out of them\n');
  }

  const key = variableKey(entry);
  const { result: sent, saved: answer } = await updateVariables(
    ctx.hub().variables,
    owner,
    (existing) => {
      const { variables } = mergeVariables(existing, [entry], false);
      return { variables, result: { old: existing.find((variable) => variableKey(variable) === key), variables } };
    },
    { missingSetIsEmpty: true },
  );
  const old = sent.old;
  // The hub's answer spells scope names as the environments, roles and machines are spelled.
  const saved = answer.find((variable) => variableKey(variable) === key) ?? sent.variables.find((variable) => variableKey(variable) === key) ?? entry;
  const result: SetVariableResult = { action: old === undefined ? 'added' : 'updated', variable: maskedVariable(saved) };
  if (ctx.json) printJson(ctx.io, { ...ownerJson(owner), ...result });
  else {
    const where = old === undefined ? `to ${ownerLabel(owner)}` : `in ${ownerLabel(owner)}`;
    printLine(ctx.io, `${result.action} ${saved.name} = ${displayValue(saved.value, saved.sensitive === true)}${scopeSuffix(saved.scope)} ${where}`);
  }
  return result;
}

export interface RemoveVariableOptions extends OwnerFlags, ScopeFlags {
  name: string;
  /** Every value of NAME, whatever its scope. */
  allScopes?: boolean;
}

/** Removes the value of NAME with exactly the scope the flags name (none: the unscoped value), or all of them. */
export async function runRemoveVariable(ctx: CommandContext, options: RemoveVariableOptions): Promise<Variable[]> {
  const owner = ownerFromFlags(options);
  const scope = scopeFromFlags(options);
  if (options.allScopes === true && scope !== undefined) throw usageError('--all-scopes removes every value of the name; do not combine it with --environment, --role or --machine.');
  const name = checkRequest(VariableSchema.shape.name, options.name, 'remove the variable');
  const key = variableKey({ name, scope });
  const removes = (variable: Variable) => (options.allScopes === true ? variable.name === name : variableKey(variable) === key);
  const { result: removed } = await updateVariables(ctx.hub().variables, owner, (existing) => {
    const gone = existing.filter(removes);
    if (gone.length === 0) {
      const scopes = existing.filter((variable) => variable.name === name).map((variable) => formatScope(variable.scope));
      const has = scopes.length === 0 ? `it has no variable ${name}` : `the values of ${name} it has are scoped: ${scopes.join(' | ')}`;
      const which = options.allScopes === true ? `value of ${name}` : scope === undefined ? `unscoped value of ${name}` : `value of ${name} with the scope ${formatScope(scope)}`;
      throw new CliError('variable-not-found', `${ownerLabel(owner)} has no ${which}; ${has}`, {
        exitCode: EXIT.failed,
        details: { name, scope: scope ?? null, scopes },
      });
    }
    return { variables: existing.filter((variable) => !removes(variable)), result: gone };
  });
  const shown = removed.map(maskedVariable);
  if (ctx.json) printJson(ctx.io, { ...ownerJson(owner), removed: shown });
  else if (removed.length === 1) printLine(ctx.io, `removed ${name}${scopeSuffix(removed[0]?.scope)} from ${ownerLabel(owner)}`);
  else printLine(ctx.io, `removed ${removed.length} values of ${name} from ${ownerLabel(owner)}`);
  return shown;
}

export interface ImportVariablesOptions extends OwnerFlags {
  file: string;
  /** The file becomes the whole list; otherwise it is merged by (name, scope). */
  replace?: boolean;
}

export interface ImportResult {
  added: number;
  updated: number;
  removed: number;
  total: number;
}

/** Checks the file locally (exit 2, nothing sent), then merges it into the list or replaces the list. */
export async function runImportVariables(ctx: CommandContext, options: ImportVariablesOptions): Promise<ImportResult> {
  const owner = ownerFromFlags(options);
  // loaded on use: the YAML parser is the CLI's heaviest import
  const { readVariablesFile } = await import('../variables-file.js');
  const incoming = await readVariablesFile(ctx.io.cwd, options.file);
  const replace = options.replace === true;
  // --replace too: what it reports (and the sensitivity a value keeps) comes from the list it replaced.
  const { result: merged } = await updateVariables(
    ctx.hub().variables,
    owner,
    (existing) => {
      const result = mergeVariables(existing, incoming, replace);
      return { variables: result.variables, result };
    },
    { missingSetIsEmpty: true },
  );
  const result: ImportResult = { added: merged.added, updated: merged.updated, removed: merged.removed, total: merged.variables.length };
  if (ctx.json) printJson(ctx.io, { ...ownerJson(owner), file: options.file, mode: replace ? 'replace' : 'merge', ...result });
  else {
    const removed = replace ? `, ${result.removed} removed` : '';
    printLine(ctx.io, `imported ${options.file} into ${ownerLabel(owner)}: ${result.added} added, ${result.updated} updated${removed}; ${result.total} variable${result.total === 1 ? '' : 's'} in all`);
  }
  return result;
}
