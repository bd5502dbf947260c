import { CuttleError, variableReferences } from '@cuttle/shared';

const REFERENCE = /(#?)#\{([A-Za-z0-9._:-]{1,200})\}/g;

export interface ExpandableValue {
  value: string;
  sensitive: boolean;
}

function cycleError(cycle: readonly string[]): CuttleError {
  return new CuttleError('variable-cycle', `Variables refer to each other in a cycle: ${cycle.map((n) => `#{${n}}`).join(' -> ')}.`, { name: cycle[0], cycle });
}

/**
 * Expands `#{Name}` references in every value with the other values (recursively). A `##{Name}`
 * escape is kept as it is, for the tentacle to write as a literal `#{Name}`; a reference to a
 * name that has no value is kept too. A value that takes in a sensitive one becomes sensitive.
 * A cycle throws `variable-cycle`.
 */
export function expandReferences(values: ReadonlyMap<string, ExpandableValue>): Map<string, ExpandableValue> {
  const done = new Map<string, ExpandableValue>();
  const visiting: string[] = [];
  const expand = (name: string): ExpandableValue => {
    const cached = done.get(name);
    if (cached) return cached;
    const at = visiting.indexOf(name);
    if (at >= 0) throw cycleError([...visiting.slice(at), name]);
    const own = values.get(name)!;
    visiting.push(name);
    let sensitive = own.sensitive;
    const value = own.value.replace(REFERENCE, (whole: string, escape: string, ref: string) => {
      if (escape !== '' || !values.has(ref)) return whole;
      const inner = expand(ref);
      sensitive ||= inner.sensitive;
      return inner.value;
    });
    visiting.pop();
    const result = { value, sensitive };
    done.set(name, result);
    return result;
  };
  for (const name of values.keys()) expand(name);
  return done;
}

/**
 * Checks that no chain of references between the names comes back to where it started,
 * considering every value of a name whatever its scope (conservative: a cycle that no single
 * target could hit is refused too). Throws `variable-cycle` naming the cycle.
 */
export function assertNoCycle(values: ReadonlyArray<{ name: string; value: string }>): void {
  const graph = new Map<string, Set<string>>();
  for (const { name, value } of values) {
    let edges = graph.get(name);
    if (!edges) graph.set(name, (edges = new Set()));
    for (const ref of variableReferences(value)) edges.add(ref);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): void => {
    const seen = state.get(name);
    if (seen === 'done') return;
    if (seen === 'visiting') throw cycleError([...path.slice(path.indexOf(name)), name]);
    state.set(name, 'visiting');
    path.push(name);
    for (const next of graph.get(name) ?? []) if (graph.has(next)) visit(next);
    path.pop();
    state.set(name, 'done');
  };
  for (const name of graph.keys()) visit(name);
}
