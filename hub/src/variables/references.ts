import { CuttleError } from '@cuttle/shared';

const REFERENCE = /(#?)#\{([A-Za-z0-9._:-]{1,200})\}/g;
const ESCAPED_REFERENCE = /##\{([A-Za-z0-9._:-]{1,200})\}/g;

/**
 * The longest a value may become once its references are expanded. Chains of values that double
 * at each link would otherwise take the hub's memory and time; far above what a job can carry.
 */
export const MAX_EXPANDED_VALUE_LENGTH = 1024 * 1024;

export interface ExpandableValue {
  value: string;
  sensitive: boolean;
}

/** A `#{Name}` left as it is because the name has no value here. */
export interface UnresolvedReference {
  /** the variable whose value holds the reference */
  name: string;
  reference: string;
}

function cycleError(cycle: readonly string[]): CuttleError {
  return new CuttleError('variable-cycle', `Variables refer to each other in a cycle: ${cycle.map((n) => `#{${n}}`).join(' -> ')}.`, { name: cycle[0], cycle });
}

function tooLongError(name: string, size: number): CuttleError {
  return new CuttleError(
    'invalid-request',
    `Variable ${name} would be ${size > Number.MAX_SAFE_INTEGER ? 'far more than' : size} characters long once its references are expanded; a value may be at most ${MAX_EXPANDED_VALUE_LENGTH} characters.`,
    { name, size: Math.min(size, Number.MAX_SAFE_INTEGER), limit: MAX_EXPANDED_VALUE_LENGTH },
  );
}

/** One piece of a value: text kept as it is, or a reference to a known name. */
type Part = { text: string } | { ref: string };

/** Splits a value at its references to known names; escapes and unknown names stay text (unknown ones are reported). */
function parse(value: string, known: (name: string) => boolean, unknown: (ref: string) => void): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of value.matchAll(REFERENCE)) {
    const [whole, escape, ref] = match as unknown as [string, string, string];
    if (escape !== '') continue;
    if (!known(ref)) {
      unknown(ref);
      continue;
    }
    if (match.index > last) parts.push({ text: value.slice(last, match.index) });
    parts.push({ ref });
    last = match.index + whole.length;
  }
  if (last < value.length) parts.push({ text: value.slice(last) });
  return parts;
}

/**
 * The names in an order where each comes after every name it refers to. Iterative (a chain of
 * thousands of references must not exhaust the stack); a cycle throws `variable-cycle` naming it.
 */
function dependencyOrder(names: Iterable<string>, edges: (name: string) => readonly string[]): string[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  for (const start of names) {
    if (state.has(start)) continue;
    const stack: Array<{ name: string; next: readonly string[]; at: number }> = [{ name: start, next: edges(start), at: 0 }];
    state.set(start, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.at >= top.next.length) {
        stack.pop();
        state.set(top.name, 'done');
        order.push(top.name);
        continue;
      }
      const next = top.next[top.at++]!;
      const seen = state.get(next);
      if (seen === 'done') continue;
      if (seen === 'visiting') {
        const path = stack.map((f) => f.name);
        throw cycleError([...path.slice(path.indexOf(next)), next]);
      }
      state.set(next, 'visiting');
      stack.push({ name: next, next: edges(next), at: 0 });
    }
  }
  return order;
}

const refsOf = (parts: readonly Part[]) => parts.flatMap((p) => ('ref' in p ? [p.ref] : []));

/**
 * Expands `#{Name}` references in every value with the other values. A `##{Name}` escape is kept
 * as it is (see unescapeReferences, for the final values only); a reference to a name that has no
 * value is kept too and reported. A value that takes in a sensitive one becomes sensitive. A cycle
 * throws `variable-cycle`; a value longer than MAX_EXPANDED_VALUE_LENGTH once expanded throws
 * `invalid-request` before it is built.
 */
export function expandReferences(values: ReadonlyMap<string, ExpandableValue>): { values: Map<string, ExpandableValue>; unresolved: UnresolvedReference[] } {
  const unresolved: UnresolvedReference[] = [];
  const parsed = new Map<string, Part[]>();
  for (const [name, { value }] of values) {
    parsed.set(
      name,
      parse(value, (ref) => values.has(ref), (reference) => {
        if (!unresolved.some((u) => u.name === name && u.reference === reference)) unresolved.push({ name, reference });
      }),
    );
  }
  const done = new Map<string, ExpandableValue>();
  for (const name of dependencyOrder(values.keys(), (n) => refsOf(parsed.get(n)!))) {
    const parts = parsed.get(name)!;
    let size = 0;
    let sensitive = values.get(name)!.sensitive;
    for (const part of parts) {
      if ('text' in part) size += part.text.length;
      else {
        const inner = done.get(part.ref)!;
        size += inner.value.length;
        sensitive ||= inner.sensitive;
      }
    }
    if (size > MAX_EXPANDED_VALUE_LENGTH) throw tooLongError(name, size);
    done.set(name, { value: parts.map((p) => ('text' in p ? p.text : done.get(p.ref)!.value)).join(''), sensitive });
  }
  // keep the caller's order of names
  return { values: new Map([...values.keys()].map((name) => [name, done.get(name)!])), unresolved };
}

/** `##{Name}` -> `#{Name}`, once: what a final value carries for an escaped reference. */
export function unescapeReferences(value: string): string {
  return value.includes('##{') ? value.replace(ESCAPED_REFERENCE, '#{$1}') : value;
}

/** What a text takes inside a JSON string, in UTF-8 bytes (how a job carries it). */
const jsonBytes = (text: string) => Buffer.byteLength(JSON.stringify(text)) - 2;

/**
 * Checks what a save could make of the values, considering every value of a name whatever its
 * scope (conservative: what no single target could hit is refused too): no chain of references
 * comes back to where it started (`variable-cycle` naming it), and no value grows beyond
 * MAX_EXPANDED_VALUE_LENGTH (`invalid-request`). Lengths are counted, never built. Returns, for
 * each name, the most bytes its expanded value can take in a job.
 */
export function checkReferences(values: ReadonlyArray<{ name: string; value: string }>): Map<string, number> {
  const byName = new Map<string, string[]>();
  for (const { name, value } of values) {
    const list = byName.get(name);
    if (list) list.push(value);
    else byName.set(name, [value]);
  }
  const parsed = new Map<string, Part[][]>();
  for (const [name, list] of byName) parsed.set(name, list.map((value) => parse(value, (ref) => byName.has(ref), () => undefined)));
  const longest = new Map<string, { length: number; bytes: number }>();
  const order = dependencyOrder(byName.keys(), (name) => [...new Set(parsed.get(name)!.flatMap(refsOf))]);
  for (const name of order) {
    const max = { length: 0, bytes: 0 };
    for (const parts of parsed.get(name)!) {
      let length = 0;
      let bytes = 0;
      for (const part of parts) {
        const inner = 'text' in part ? { length: part.text.length, bytes: jsonBytes(part.text) } : longest.get(part.ref)!;
        length += inner.length;
        bytes += inner.bytes;
      }
      max.length = Math.max(max.length, length);
      max.bytes = Math.max(max.bytes, bytes);
    }
    if (max.length > MAX_EXPANDED_VALUE_LENGTH) throw tooLongError(name, max.length);
    longest.set(name, max);
  }
  return new Map([...longest].map(([name, { bytes }]) => [name, bytes]));
}

/** checkReferences, for its refusals alone. */
export function assertNoCycle(values: ReadonlyArray<{ name: string; value: string }>): void {
  checkReferences(values);
}
