import { SENSITIVE_MASK } from '@cuttle/shared';

/** Shorter values are not masked: masking every "a" or "1" in a log would make it unreadable and hide nothing. */
export const MIN_MASKED_LENGTH = 3;

const YAML_ESCAPES: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1b': '\\e',
  '"': '\\"',
  '\\': '\\\\',
  '\x85': '\\N',
  '\xa0': '\\_',
  '\u2028': '\\L',
  '\u2029': '\\P',
};

/** The text between the quotes of a YAML double-quoted scalar holding the value (as the yaml library writes it). */
export function yamlDoubleQuoted(value: string): string {
  return value.replace(/[\x00-\x1f"\\\x7f\x85\xa0\u2028\u2029]/g, (c) => YAML_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * The forms a secret takes in a log: as it is, and escaped inside a JSON string or a YAML
 * double-quoted scalar (a script that prints a configuration file shows it so).
 */
export function maskedForms(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1), yamlDoubleQuoted(secret)])];
}

/**
 * Replaces every occurrence of the given secrets (in each of their forms) in a text by
 * SENSITIVE_MASK, longest first (so a secret that contains another is masked whole). Works on one
 * text at a time: a secret split across two log lines is not recognised.
 */
export function createMasker(secrets: Iterable<string>): (text: string) => string {
  const values = [...new Set([...secrets].filter((s) => s.length >= MIN_MASKED_LENGTH).flatMap(maskedForms))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  const pattern = new RegExp(values.map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(pattern, SENSITIVE_MASK);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
