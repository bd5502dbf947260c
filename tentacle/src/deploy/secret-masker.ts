import { SENSITIVE_MASK, type JobVariable } from '@cuttle/shared';

/** Shorter values are not masked: they would mask ordinary words and numbers everywhere. */
export const MIN_MASKED_LENGTH = 3;

/**
 * Replaces the values of a job's sensitive variables with SENSITIVE_MASK in text that leaves the
 * tentacle. Longest first, so a secret that contains another is masked whole. Each line of a
 * multi-line secret is masked too, because output reaches the log one line at a time.
 */
export function secretMasker(variables: readonly JobVariable[] | undefined): (text: string) => string {
  const secrets = new Set<string>();
  for (const variable of variables ?? []) {
    if (!variable.sensitive) continue;
    secrets.add(variable.value);
    if (variable.value.includes('\n')) for (const line of variable.value.split(/\r?\n/)) secrets.add(line.trim());
  }
  const ordered = [...secrets].filter((s) => s.length >= MIN_MASKED_LENGTH).sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let masked = text;
    for (const secret of ordered) if (masked.includes(secret)) masked = masked.split(secret).join(SENSITIVE_MASK);
    return masked;
  };
}
