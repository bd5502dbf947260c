import { stringify } from 'yaml';
import { SENSITIVE_MASK, type JobVariable } from '@cuttle/shared';
import { cutLine } from './line-splitter.js';

/** Shorter values are not masked: they would mask ordinary words and numbers everywhere. */
export const MIN_MASKED_LENGTH = 3;

/** Masks a job's secrets in text that leaves the tentacle. */
export interface SecretMasker {
  /**
   * The longest text that is masked. A line cut at N characters must be read to N + reach
   * characters first, so that a secret across the cut is recognised whole.
   */
  readonly reach: number;
  /** `text` with every secret replaced by SENSITIVE_MASK. */
  mask(text: string): string;
  /**
   * `text` masked and then cut to `max` characters (the last one an ellipsis): a secret that
   * starts before the cut is masked whole, so no part of it survives the cut.
   */
  maskLine(text: string, max: number): string;
}

/** The forms a value takes once a JSON or YAML writer has escaped it inside double quotes. */
function escapedForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const yaml = stringify(value, { defaultStringType: 'QUOTE_DOUBLE', lineWidth: 0 }).trimEnd().slice(1, -1);
  return [value, json, yaml];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The masker for a job's sensitive variables: each value, each line of a multi-line value (output
 * reaches the log one line at a time), and the JSON- and YAML-escaped forms of those (a script may
 * print a configuration file it was given). One regular expression of all of them, longest first,
 * so that a secret containing another is masked whole and many secrets stay cheap.
 */
export function secretMasker(variables: readonly JobVariable[] | undefined): SecretMasker {
  const values = new Set<string>();
  for (const variable of variables ?? []) {
    if (!variable.sensitive) continue;
    values.add(variable.value);
    if (variable.value.includes('\n')) for (const line of variable.value.split(/\r?\n/)) values.add(line.trim());
  }
  const secrets = new Set<string>();
  for (const value of values) for (const form of escapedForms(value)) if (form.length >= MIN_MASKED_LENGTH) secrets.add(form);
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return NO_SECRETS;
  const pattern = new RegExp(ordered.map(escapeRegExp).join('|'), 'g');
  return {
    reach: ordered[0]!.length,
    mask: (text) => text.replace(pattern, SENSITIVE_MASK),
    maskLine: (text, max) => {
      let out = '';
      let at = 0;
      // exec on the one compiled expression: matchAll would compile a copy of it for every line
      pattern.lastIndex = 0;
      for (let match = pattern.exec(text); match !== null && match.index < max; match = pattern.exec(text)) {
        out += text.slice(at, match.index) + SENSITIVE_MASK;
        at = match.index + match[0].length;
      }
      let end = Math.max(at, Math.min(text.length, max));
      if (end < text.length && end > at && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
      out += text.slice(at, end);
      // the rest of the text is not read: the line is cut, and says so
      return end < text.length ? cutLine(`${out}…`, max) : cutLine(out, max);
    },
  };
}

/** The masker of a job without secrets. */
export const NO_SECRETS: SecretMasker = {
  reach: 0,
  mask: (text) => text,
  maskLine: (text, max) => cutLine(text, max),
};

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
