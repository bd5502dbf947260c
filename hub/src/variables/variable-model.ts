import type { VariableScope } from '@cuttle/shared';

/** A variable as the hub stores it: a sensitive one has only its sealed `secret`. */
export interface StoredVariable {
  name: string;
  /** null for a sensitive variable */
  value: string | null;
  /** the AES-GCM sealed value of a sensitive variable, else null */
  secret: string | null;
  scope: VariableScope | null;
}

/** A variable with its value in the clear (only ever in memory). */
export interface PlainVariable {
  name: string;
  value: string;
  sensitive: boolean;
  scope: VariableScope | null;
}

/**
 * A value together with where it comes from: source 0 is the project, source n the n-th variable
 * set the project includes (a lower source wins a tie of specificity).
 */
export interface SourcedVariable extends PlainVariable {
  source: number;
  /** the variable set's name, null for the project's own */
  set: string | null;
}

/** What a scope is matched against: one deployment target, or a preview of one. */
export interface VariableTarget {
  environment: string;
  /** null in a preview without a machine: a scope naming machines then never matches */
  machine: string | null;
  roles: readonly string[];
}

const lower = (names: readonly string[] | undefined) => [...new Set((names ?? []).map((n) => n.toLowerCase()))].sort();

/** A scope with no dimension is the same as none. */
export function normalScope(scope: VariableScope | null | undefined): VariableScope | null {
  if (!scope) return null;
  const out: VariableScope = {};
  if (scope.environments?.length) out.environments = scope.environments;
  if (scope.roles?.length) out.roles = scope.roles;
  if (scope.machines?.length) out.machines = scope.machines;
  return Object.keys(out).length === 0 ? null : out;
}

/** Order- and case-insensitive identity of a scope: two scopes with the same key are the same scope. */
export function scopeKey(scope: VariableScope | null): string {
  return JSON.stringify([lower(scope?.environments), lower(scope?.roles), lower(scope?.machines)]);
}

/** The additional authenticated data a secret is sealed with: its variable's name and scope. */
export function secretAad(name: string, scope: VariableScope | null): string {
  return `cuttle-variable\0${name}\0${scopeKey(scope)}`;
}

export function describeScope(scope: VariableScope | null): string {
  if (!scope) return 'unscoped';
  const parts: string[] = [];
  if (scope.environments) parts.push(`environments ${scope.environments.join(', ')}`);
  if (scope.roles) parts.push(`roles ${scope.roles.join(', ')}`);
  if (scope.machines) parts.push(`machines ${scope.machines.join(', ')}`);
  return parts.join('; ');
}
