import type { ExitCode } from '@cuttle/shared';

/**
 * Codes the tentacle produces itself. Hub answers keep the hub's own code (any string).
 * Stable kebab-case strings, like every other error code of Cuttle.
 */
export const TENTACLE_ERROR_CODES = {
  usage: 'The command line is wrong: an unknown option, a missing argument or value.',
  'invalid-option': 'An option has a value the tentacle does not accept (hub URL, name, role, environment, fingerprint).',
  'fingerprint-required': 'register: neither --hub-fingerprint nor --trust-on-first-use was given.',
  'fingerprint-mismatch': "The hub's TLS certificate does not have the pinned SHA-256 fingerprint.",
  'hub-unreachable': 'The hub could not be reached (connection refused, DNS, timeout, TLS failure).',
  'bad-response': 'The hub answered something the tentacle does not understand.',
  'hub-error': 'The hub answered an error status without a readable error body.',
  'not-registered': 'run: the home folder holds no registration (tentacle.json is missing).',
  'invalid-home': 'The home folder is unusable: not a folder, unreadable, or its files are damaged.',
  internal: 'An unexpected fault inside the tentacle.',
} as const;
export type TentacleErrorCode = keyof typeof TENTACLE_ERROR_CODES;

/**
 * A failure with a stable code and the exit code it maps to (`EXIT` of `@cuttle/shared`).
 * Only `main.ts` turns exit codes into a process exit; everything else throws a `TentacleError`.
 */
export class TentacleError extends Error {
  override readonly name = 'TentacleError';
  constructor(
    readonly code: TentacleErrorCode | (string & {}),
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
