import { VariableSetNameSchema, type Variable, type VariableScope } from '@cuttle/shared';
import { invalidOption, usageError } from './cli-error.js';
import type { VariableOwner } from './hub-client-variables.js';
import { checkName, parseNameList } from './local-validation.js';

/**
 * Scopes as the CLI handles them: built from `--environment/--role/--machine`, compared as sets
 * the way the hub compares them (order and case do not matter: `[Test, Staging]` is the scope
 * `[staging, Test]`), and printed for tables. Variable names themselves compare exactly.
 */

export interface ScopeFlags {
  environment?: readonly string[];
  role?: readonly string[];
  machine?: readonly string[];
}

/** The scope the flags name; `undefined` when they name none (the unscoped value). */
export function scopeFromFlags(flags: ScopeFlags): VariableScope | undefined {
  const environments = parseNameList('environment', flags.environment ?? [], '--environment');
  const roles = parseNameList('role', flags.role ?? [], '--role');
  const machines = parseNameList('machine', flags.machine ?? [], '--machine');
  const scope: VariableScope = {
    ...(environments.length === 0 ? {} : { environments }),
    ...(roles.length === 0 ? {} : { roles }),
    ...(machines.length === 0 ? {} : { machines }),
  };
  return Object.keys(scope).length === 0 ? undefined : scope;
}

function sortedKey(names: readonly string[] | undefined): string {
  return JSON.stringify([...new Set((names ?? []).map((name) => name.toLowerCase()))].sort());
}

/** One string per scope: equal for scopes naming the same environments, roles and machines (names compare case-insensitively, as on the hub). */
export function scopeKey(scope: VariableScope | undefined): string {
  return `${sortedKey(scope?.environments)}|${sortedKey(scope?.roles)}|${sortedKey(scope?.machines)}`;
}

/** What `set`, `remove` and `import` match entries by: the name and the scope. */
export function variableKey(variable: Pick<Variable, 'name' | 'scope'>): string {
  return `${variable.name}\u0000${scopeKey(variable.scope)}`;
}

/** `environments: Test, Staging; roles: web-server`, or `-` for the unscoped value. */
export function formatScope(scope: VariableScope | null | undefined): string {
  if (scope === null || scope === undefined) return '-';
  const parts: string[] = [];
  if (scope.environments !== undefined) parts.push(`environments: ${scope.environments.join(', ')}`);
  if (scope.roles !== undefined) parts.push(`roles: ${scope.roles.join(', ')}`);
  if (scope.machines !== undefined) parts.push(`machines: ${scope.machines.join(', ')}`);
  return parts.length === 0 ? '-' : parts.join('; ');
}

/** ` (environments: Production)` after a name in messages, nothing for the unscoped value. */
export function scopeSuffix(scope: VariableScope | undefined): string {
  const text = formatScope(scope);
  return text === '-' ? '' : ` (${text})`;
}

/** `--project P` or `--set S`: exactly one, checked locally. */
export function ownerFromFlags(flags: { project?: string; set?: string }): VariableOwner {
  if (flags.project !== undefined && flags.set !== undefined) throw usageError('give either --project or --set, not both.');
  if (flags.project !== undefined) return { kind: 'project', name: checkName('project', flags.project, '--project') };
  if (flags.set !== undefined) return { kind: 'set', name: checkSetName(flags.set, '--set') };
  throw usageError('say whose variables: --project NAME or --set NAME (a shared variable set).');
}

export function checkSetName(name: string, what: string): string {
  const parsed = VariableSetNameSchema.safeParse(name);
  if (parsed.success) return parsed.data;
  throw invalidOption(`${what} "${name}" is not a valid variable set name: ${parsed.error.issues.map((issue) => issue.message).join('; ')}.`, { set: name });
}
