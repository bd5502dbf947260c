import { BUILT_IN_VARIABLES, CuttleError, type Variable, type VariableScope } from '@cuttle/shared';
import { ambiguityError, sameStanding, scopeMatches } from './precedence.js';
import { normalScope, scopeKey } from './variable-model.js';

/** What exists on the hub that a scope may name. */
export interface ScopeCatalog {
  environments: readonly string[];
  machines: ReadonlyArray<{ name: string; roles: readonly string[]; environments: readonly string[] }>;
  /** roles of registered machines and roles that any project's steps run on */
  roles: readonly string[];
}

/** A variable that passed the checks: its scope in the hub's spelling, null when it has none. */
export type CheckedVariable = Omit<Variable, 'scope'> & { scope: VariableScope | null };

const BUILT_IN_LOWER = new Set(BUILT_IN_VARIABLES.map((n) => n.toLowerCase()));

export function isReservedName(name: string): boolean {
  return BUILT_IN_LOWER.has(name.toLowerCase()) || name.toLowerCase().startsWith('cuttle.');
}

type Dimension = 'environments' | 'roles' | 'machines';
type StaleNames = Record<Dimension, ReadonlyMap<string, string>>;

/** Every name the stored list's scopes use, per dimension (lower case -> stored spelling). */
function storedNames(stored: ReadonlyArray<{ scope: VariableScope | null }>): StaleNames {
  const out = { environments: new Map<string, string>(), roles: new Map<string, string>(), machines: new Map<string, string>() };
  for (const { scope } of stored) for (const d of ['environments', 'roles', 'machines'] as const) for (const name of scope?.[d] ?? []) out[d].set(name.toLowerCase(), name);
  return out;
}

/**
 * Checks a list that is about to be saved (names are already checked by the schema): no reserved
 * name, scopes that name only what exists (returned with the hub's spelling of environments and
 * machines, and without repeats), and no two values of a name that some target could not tell apart.
 * A name the stored list already used is accepted even when it no longer exists (a removed machine
 * or role matches no target and must not block editing the rest); only new names must exist.
 */
export function checkVariables(variables: readonly Variable[], catalog: ScopeCatalog, stored: ReadonlyArray<{ scope: VariableScope | null }> = []): CheckedVariable[] {
  const stale = storedNames(stored);
  const normalized = variables.map((variable, index) => {
    if (isReservedName(variable.name)) {
      throw new CuttleError('reserved-variable', `Variable ${variable.name} (index ${index}) uses a reserved name: Cuttle.* names are the built-in variables.`, {
        index,
        name: variable.name,
      });
    }
    return { ...variable, scope: checkScope(variable, index, catalog, stale) };
  });
  checkAmbiguity(normalized, catalog);
  return normalized;
}

function checkScope(variable: Variable, index: number, catalog: ScopeCatalog, stale: StaleNames): VariableScope | null {
  const scope = normalScope(variable.scope);
  if (!scope) return null;
  const resolve = (kind: Dimension, known: readonly string[]): string[] | undefined => {
    const names = scope[kind];
    if (!names) return undefined;
    const out: string[] = [];
    for (const name of names) {
      const found = known.find((k) => k.toLowerCase() === name.toLowerCase()) ?? stale[kind].get(name.toLowerCase());
      if (found === undefined) {
        const what = kind === 'environments' ? 'environment' : kind === 'roles' ? 'role' : 'machine';
        throw new CuttleError('unknown-scope', `Variable ${variable.name} (index ${index}) is scoped to ${what} "${name}", which does not exist.`, {
          index,
          name: variable.name,
          [kind]: [name],
        });
      }
      // environments and machines take the hub's spelling; roles are free-form and keep the user's
      const spelled = kind === 'roles' ? name : found;
      if (!out.some((o) => o.toLowerCase() === spelled.toLowerCase())) out.push(spelled);
    }
    return out;
  };
  const environments = resolve('environments', catalog.environments);
  const roles = resolve('roles', catalog.roles);
  const machines = resolve(
    'machines',
    catalog.machines.map((m) => m.name),
  );
  return { ...(environments ? { environments } : {}), ...(roles ? { roles } : {}), ...(machines ? { machines } : {}) };
}

const intersects = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a === undefined || b === undefined || a.some((x) => b.some((y) => x.toLowerCase() === y.toLowerCase()));

/**
 * Two values of one name with the same standing conflict when their scopes name the same
 * dimensions and overlap in each (the definitions alone make a shared target possible), or when
 * a registered machine, in one of its environments, matches both.
 */
function conflicts(a: VariableScope | null, b: VariableScope | null, catalog: ScopeCatalog): { machine: string; environment: string } | 'definitions' | null {
  const sameDimensions = (['environments', 'roles', 'machines'] as const).every((d) => (a?.[d] === undefined) === (b?.[d] === undefined));
  if (sameDimensions && intersects(a?.environments, b?.environments) && intersects(a?.roles, b?.roles) && intersects(a?.machines, b?.machines)) return 'definitions';
  for (const machine of catalog.machines) {
    for (const environment of machine.environments) {
      const target = { environment, machine: machine.name, roles: machine.roles };
      if (scopeMatches(a, target) && scopeMatches(b, target)) return { machine: machine.name, environment };
    }
  }
  return null;
}

function checkAmbiguity(variables: readonly CheckedVariable[], catalog: ScopeCatalog): void {
  const byName = new Map<string, number[]>();
  variables.forEach((v, index) => {
    const list = byName.get(v.name);
    if (list) list.push(index);
    else byName.set(v.name, [index]);
  });
  for (const [name, indexes] of byName) {
    for (let i = 0; i < indexes.length; i++) {
      for (let j = i + 1; j < indexes.length; j++) {
        const a = variables[indexes[i]!]!;
        const b = variables[indexes[j]!]!;
        if (!sameStanding(a, b)) continue;
        const conflict = conflicts(a.scope, b.scope, catalog);
        if (conflict === null) continue;
        const where =
          conflict === 'definitions'
            ? scopeKey(a.scope) === scopeKey(b.scope)
              ? 'the same targets (the same scope twice)'
              : 'a target both scopes include'
            : `machine ${conflict.machine} in environment ${conflict.environment}`;
        const error = ambiguityError(name, a.scope, b.scope, where);
        throw new CuttleError(error.code, error.message, { index: indexes[j], name, indexes: [indexes[i], indexes[j]], scopes: [a.scope, b.scope] });
      }
    }
  }
}
