import { CuttleError, type VariableScope } from '@cuttle/shared';
import { describeScope, type SourcedVariable, type VariableTarget } from './variable-model.js';

export type MatchedBy = 'machine' | 'role' | 'environment' | 'unscoped';

const has = (names: readonly string[] | undefined, value: string) => names !== undefined && names.some((n) => n.toLowerCase() === value.toLowerCase());

/** Every dimension the scope names must contain the target's value (names compare case-insensitively). */
export function scopeMatches(scope: VariableScope | null, target: VariableTarget): boolean {
  if (!scope) return true;
  if (scope.environments && !has(scope.environments, target.environment)) return false;
  if (scope.roles && !target.roles.some((role) => has(scope.roles, role))) return false;
  if (scope.machines && (target.machine === null || !has(scope.machines, target.machine))) return false;
  return true;
}

/** Specificity: the most specific dimension named (machine 3, role 2, environment 1, none 0), then how many are named. */
export function specificity(scope: VariableScope | null): { rank: number; dimensions: number } {
  if (!scope) return { rank: 0, dimensions: 0 };
  const rank = scope.machines ? 3 : scope.roles ? 2 : scope.environments ? 1 : 0;
  const dimensions = [scope.machines, scope.roles, scope.environments].filter((d) => d !== undefined).length;
  return { rank, dimensions };
}

export function matchedBy(scope: VariableScope | null): MatchedBy {
  return (['unscoped', 'environment', 'role', 'machine'] as const)[specificity(scope).rank]!;
}

/** Negative when `a` beats `b` for the same target. Equal (0) within one source is an ambiguity. */
function compare(a: SourcedVariable, b: SourcedVariable): number {
  const sa = specificity(a.scope);
  const sb = specificity(b.scope);
  return sb.rank - sa.rank || sb.dimensions - sa.dimensions || a.source - b.source;
}

/** Two values of one name from one source that no rule tells apart for some target. */
export function sameStanding(a: SourcedVariable | { scope: VariableScope | null }, b: { scope: VariableScope | null }): boolean {
  const sa = specificity(a.scope);
  const sb = specificity(b.scope);
  return sa.rank === sb.rank && sa.dimensions === sb.dimensions;
}

export function ambiguityError(name: string, a: VariableScope | null, b: VariableScope | null, where: string): CuttleError {
  return new CuttleError(
    'ambiguous-variable',
    `Variable ${name} has two values that match ${where} with the same precedence (${describeScope(a)} / ${describeScope(b)}); make one scope more specific or remove one.`,
    { name, scopes: [a, b] },
  );
}

/**
 * The value of each name that wins for the target: the most specific matching scope (machine,
 * then role, then environment, then unscoped; at equal rank more dimensions), then the project
 * before variable sets and an earlier set before a later one. A tie within one source throws
 * `ambiguous-variable`. Names keep the order of their first value.
 */
export function pickWinners(values: readonly SourcedVariable[], target: VariableTarget): Map<string, SourcedVariable> {
  const byName = new Map<string, SourcedVariable[]>();
  for (const value of values) {
    if (!scopeMatches(value.scope, target)) continue;
    const list = byName.get(value.name);
    if (list) list.push(value);
    else byName.set(value.name, [value]);
  }
  const winners = new Map<string, SourcedVariable>();
  for (const [name, candidates] of byName) {
    const sorted = [...candidates].sort(compare);
    const [first, second] = sorted;
    if (second && compare(first!, second) === 0) {
      const where = `${target.machine === null ? '' : `machine ${target.machine} in `}environment ${target.environment}`;
      throw ambiguityError(name, first!.scope, second.scope, where);
    }
    winners.set(name, first!);
  }
  return winners;
}
