import { BUILT_IN_VARIABLES, type ResolvedVariable } from '@cuttle/shared';
import { matchedBy, pickWinners } from './precedence.js';
import { expandReferences, type ExpandableValue } from './references.js';
import type { SourcedVariable, VariableTarget } from './variable-model.js';

export type BuiltInName = (typeof BUILT_IN_VARIABLES)[number];
export type BuiltIns = Partial<Record<BuiltInName, string>>;

/** A resolved variable with its value in the clear (the caller masks it where it must). */
export type ClearResolvedVariable = ResolvedVariable;

/**
 * The variables of one target: the built-ins given, then the winning value of every name (see
 * pickWinners) with its references expanded. Throws `ambiguous-variable` or `variable-cycle`.
 */
export function resolveVariables(values: readonly SourcedVariable[], target: VariableTarget, builtIns: BuiltIns): ClearResolvedVariable[] {
  const winners = pickWinners(values, target);
  const plain = new Map<string, ExpandableValue>();
  const builtInNames = BUILT_IN_VARIABLES.filter((name) => builtIns[name] !== undefined);
  for (const name of builtInNames) plain.set(name, { value: builtIns[name]!, sensitive: false });
  for (const [name, winner] of winners) if (!plain.has(name)) plain.set(name, { value: winner.value, sensitive: winner.sensitive });
  const expanded = expandReferences(plain);
  const out: ClearResolvedVariable[] = builtInNames.map((name) => ({
    name,
    value: expanded.get(name)!.value,
    sensitive: false,
    source: { kind: 'built-in', set: null, scope: null, matchedBy: 'unscoped' },
  }));
  for (const [name, winner] of winners) {
    if (builtIns[name as BuiltInName] !== undefined) continue;
    const { value, sensitive } = expanded.get(name)!;
    out.push({
      name,
      value,
      sensitive,
      source: { kind: winner.set === null ? 'project' : 'variable-set', set: winner.set, scope: winner.scope, matchedBy: matchedBy(winner.scope) },
    });
  }
  return out;
}
