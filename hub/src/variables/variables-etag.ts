import { createHash } from 'node:crypto';
import { CuttleError } from '@cuttle/shared';
import type { StoredVariable } from './variable-model.js';

/**
 * The ETag of a stored list: a hash of its rows as stored (a new sealed secret changes it, as any
 * other change does), quoted as HTTP wants.
 */
export function variablesEtag(stored: readonly StoredVariable[]): string {
  const rows = stored.map((v) => [v.name, v.value, v.secret, v.scope]);
  return `"${createHash('sha256').update(JSON.stringify(rows)).digest('base64url').slice(0, 27)}"`;
}

/**
 * Refuses with `variables-changed` when an If-Match header is given and matches neither the
 * current ETag nor `*` (null: the list does not exist yet, which only `If-Match` absent accepts).
 */
export function checkIfMatch(ifMatch: string | undefined, current: string | null, what: string): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (current !== null && tags.some((t) => t === '*' || t === current)) return;
  throw new CuttleError(
    'variables-changed',
    `The variables of ${what} changed since they were read (If-Match ${ifMatch} does not match ${current ?? 'a list that does not exist'}); read them again and retry.`,
    { ifMatch, etag: current },
  );
}
