/** `#{Name}` and its escape `##{Name}`; the same name rule as variable names. */
const TOKEN = /(#?)#\{([A-Za-z0-9._:-]{1,200})\}/g;

export interface Substitution {
  text: string;
  /** names replaced, in order of first use, with how often */
  replaced: Map<string, number>;
  /** names without a value, in order of first use (left as they were) */
  unknown: string[];
  /** `##{Name}` escapes written as `#{Name}` */
  escapes: number;
}

/**
 * Replaces every `#{Name}` in `text` with `values.get(Name)`, writes each `##{Name}` as the literal
 * `#{Name}`, and leaves a `#{Name}` without a value as it is. Values are inserted as they are
 * (the hub has expanded references inside them already), so a value containing `#{...}` is not
 * substituted again.
 */
export function substituteText(text: string, values: ReadonlyMap<string, string>): Substitution {
  const replaced = new Map<string, number>();
  const unknown = new Set<string>();
  let escapes = 0;
  const out = text.replace(TOKEN, (whole: string, hash: string, name: string) => {
    if (hash === '#') {
      escapes++;
      return whole.slice(1);
    }
    const value = values.get(name);
    if (value === undefined) {
      unknown.add(name);
      return whole;
    }
    replaced.set(name, (replaced.get(name) ?? 0) + 1);
    return value;
  });
  return { text: out, replaced, unknown: [...unknown], escapes };
}
