import { SENSITIVE_MASK } from '@cuttle/shared';

/** Shorter values are not masked: masking every "a" or "1" in a log would make it unreadable and hide nothing. */
export const MIN_MASKED_LENGTH = 3;

/**
 * Replaces every occurrence of the given secrets in a text by SENSITIVE_MASK, longest first (so a
 * secret that contains another is masked whole). Works on one text at a time: a secret split
 * across two log lines is not recognised.
 */
export function createMasker(secrets: Iterable<string>): (text: string) => string {
  const values = [...new Set([...secrets].filter((s) => s.length >= MIN_MASKED_LENGTH))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  const pattern = new RegExp(values.map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(pattern, SENSITIVE_MASK);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
