import type { Variable } from '@cuttle/shared';
import { CliError } from './cli-error.js';
import type { VariableClient, VariableOwner } from './hub-client-variables.js';

/**
 * A read-modify-write of a whole variable list that loses nobody's change. The PUT carries the
 * `ETag` the list was read with as `If-Match`; when someone else saved the list in between, the
 * hub refuses with 412 `variables-changed`, and the change is applied again to a fresh read. A hub
 * that sends no `ETag` gets an unconditional PUT (the last writer wins, as it always did there).
 */

/** Fresh reads after a refused PUT before giving up with the hub's `variables-changed` (exit 1). */
export const MAX_VARIABLES_RETRIES = 5;

export interface VariablesChange<T> {
  /** The whole list to send. */
  variables: Variable[];
  /** What the command reports, worked out from the same read. */
  result: T;
}

export interface VariablesUpdate<T> {
  result: T;
  /** The list as the hub saved it (masked). */
  saved: Variable[];
}

/**
 * Reads the list, lets `change` work out the new one (it may throw, as when the value to remove
 * is gone: nothing is sent then), and sends it with `If-Match`; again on `variables-changed`.
 */
export async function updateVariables<T>(
  client: VariableClient,
  owner: VariableOwner,
  change: (existing: Variable[]) => VariablesChange<T>,
  options: { missingSetIsEmpty?: boolean } = {},
): Promise<VariablesUpdate<T>> {
  for (let attempt = 0; ; attempt++) {
    const read = await client.readVariables(owner, options.missingSetIsEmpty === true);
    const { variables, result } = change(read.variables);
    try {
      const saved = await client.putVariables(owner, variables, read.etag);
      return { result, saved };
    } catch (error) {
      const changed = error instanceof CliError && error.code === 'variables-changed' && read.etag !== undefined;
      if (!changed || attempt >= MAX_VARIABLES_RETRIES) throw error;
    }
  }
}
