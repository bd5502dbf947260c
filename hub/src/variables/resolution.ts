import { BUILT_IN_VARIABLES, type ResolvedVariable } from '@cuttle/shared';
import { matchedBy, pickWinners } from './precedence.js';
import { expandReferences, unescapeReferences, type ExpandableValue, type UnresolvedReference } from './references.js';
import type { SourcedVariable, VariableTarget } from './variable-model.js';

export type BuiltInName = (typeof BUILT_IN_VARIABLES)[number];
export type BuiltIns = Partial<Record<BuiltInName, string>>;

/** A resolved variable with its value in the clear (the caller masks it where it must). */
export type ClearResolvedVariable = ResolvedVariable;

export interface TargetResolution {
  variables: ClearResolvedVariable[];
  /** references left as they are because the name has no value for this target */
  unresolved: UnresolvedReference[];
}

/**
 * The variables of one target: the built-ins given, then the winning value of every name (see
 * pickWinners) with its references expanded and each `##{Name}` escape turned into `#{Name}`.
 * Throws `ambiguous-variable`, `variable-cycle`, or `invalid-request` for a value that grows too long.
 */
export function resolveTarget(values: readonly SourcedVariable[], target: VariableTarget, builtIns: BuiltIns): TargetResolution {
  const winners = pickWinners(values, target);
  const plain = new Map<string, ExpandableValue>();
  const builtInNames = BUILT_IN_VARIABLES.filter((name) => builtIns[name] !== undefined);
  for (const name of builtInNames) plain.set(name, { value: builtIns[name]!, sensitive: false });
  for (const [name, winner] of winners) if (!plain.has(name)) plain.set(name, { value: winner.value, sensitive: winner.sensitive });
  const { values: expanded, unresolved } = expandReferences(plain);
  const out: ClearResolvedVariable[] = builtInNames.map((name) => ({
    name,
    value: unescapeReferences(expanded.get(name)!.value),
    sensitive: false,
    source: { kind: 'built-in', set: null, scope: null, matchedBy: 'unscoped' },
  }));
  for (const [name, winner] of winners) {
    if (builtIns[name as BuiltInName] !== undefined) continue;
    const { value, sensitive } = expanded.get(name)!;
    out.push({
      name,
      value: unescapeReferences(value),
      sensitive,
      source: { kind: winner.set === null ? 'project' : 'variable-set', set: winner.set, scope: winner.scope, matchedBy: matchedBy(winner.scope) },
    });
  }
  return { variables: out, unresolved };
}

/** resolveTarget's variables alone. */
export function resolveVariables(values: readonly SourcedVariable[], target: VariableTarget, builtIns: BuiltIns): ClearResolvedVariable[] {
  return resolveTarget(values, target, builtIns).variables;
}

/** The task log's words for a reference left as it is. */
export function unresolvedMessage(u: UnresolvedReference): string {
  return `${u.name} refers to #{${u.reference}}, which has no value for this target; left as is`;
}
