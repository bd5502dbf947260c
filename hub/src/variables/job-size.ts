import { CuttleError } from '@cuttle/shared';
import { checkReferences } from './references.js';

/**
 * The most the variables of one job may take, in bytes of JSON. A job travels as one control
 * message (at most 256 KiB, less 1 KiB of framing); the rest is left to its steps and scripts.
 */
export const JOB_VARIABLES_LIMIT_BYTES = 192 * 1024;

/** What the built-in variables (Cuttle.*) may take in a job, counted with every list. */
export const BUILT_IN_HEADROOM_BYTES = 4 * 1024;

/** `{"name":"","value":"","sensitive":false},` around each variable of a job. */
const PER_VARIABLE_BYTES = 40;

/**
 * Checks references (see checkReferences) and that the variables fit in a job whatever the
 * target: for each name its largest expanded value, plus the built-ins' headroom, must stay within
 * JOB_VARIABLES_LIMIT_BYTES, else `variables-too-large` with the size and the limit.
 */
export function assertFitsInJob(values: ReadonlyArray<{ name: string; value: string }>, what: string): void {
  let size = BUILT_IN_HEADROOM_BYTES;
  for (const [name, bytes] of checkReferences(values)) size += Buffer.byteLength(name) + bytes + PER_VARIABLE_BYTES;
  if (size > JOB_VARIABLES_LIMIT_BYTES) {
    throw new CuttleError(
      'variables-too-large',
      `The variables of ${what} could take ${size} bytes in a deployment job (the largest value of each name, references expanded, and ${BUILT_IN_HEADROOM_BYTES} bytes for the built-ins); a job may carry at most ${JOB_VARIABLES_LIMIT_BYTES}.`,
      { size, limit: JOB_VARIABLES_LIMIT_BYTES },
    );
  }
}
