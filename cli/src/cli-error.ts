import { EXIT, isCuttleError, type ExitCode } from '@cuttle/shared';

/**
 * Error codes the CLI produces itself, beside the hub's codes (which it passes through
 * unchanged) and the shared validation codes. Stable kebab-case, like the hub's.
 */
export const CLI_ERROR_CODES = {
  usage: 'The command line is wrong: an unknown option, a missing argument or value.',
  'invalid-option':
    'An option or argument has a value the CLI does not accept (hub URL, scope, timeout, a name of an API key, environment, role or machine, a position or lifetime).',
  'file-not-found': 'A local file or folder named on the command line does not exist.',
  'invalid-path': 'A local path is of the wrong kind (a folder where a file is needed, or the reverse).',
  'unsafe-symlink': 'pack: a symlink points outside the folder being packed (or is absolute).',
  'unsupported-file': 'pack: the folder holds something that cannot go into a package (socket, FIFO, device, a name with a backslash).',
  'output-exists': 'pack: the output zip exists already; pass --overwrite to replace it.',
  'pack-failed': 'pack: reading the folder or writing the zip failed.',
  'file-read-failed': 'push: reading the package file failed while it was being sent.',
  'invalid-variables-file': 'variables import: the file is not valid YAML/JSON, holds no variable list, or is too large.',
  'invalid-variables': 'variables import: entries fail the shared schema or repeat a name and scope; every problem is listed and nothing is sent.',
  'variable-not-found': 'variables remove: no value of that name with that scope (the scopes there are are named).',
  'hub-unreachable': 'The hub could not be reached (connection refused, DNS, TLS).',
  'hub-timeout': 'The hub did not answer within the timeout (--timeout).',
  'connection-lost': 'The connection to the hub broke before it answered.',
  'bad-response': 'The hub answered something the CLI does not understand (wrong status, malformed body).',
  'checksum-mismatch': 'push: the SHA-256 the hub computed differs from the one of the local file.',
  'hub-error': 'The hub answered an error status without a readable error body.',
  'deployment-failed': 'deploy/rollback --wait: the deployment failed (the failed targets and their errors are printed).',
  'deployment-cancelled': 'deploy/rollback --wait: the deployment was cancelled before it finished.',
  'wait-timeout': 'deploy/rollback --wait: --timeout passed before the deployment ended; it goes on on the hub.',
  interrupted: 'The command was interrupted (Ctrl-C) and cleaned up after itself; a deployment being waited for goes on.',
  internal: 'An unexpected fault inside the CLI.',
} as const;
export type CliErrorCode = keyof typeof CLI_ERROR_CODES;

export interface CliErrorOptions {
  exitCode: ExitCode;
  details?: Record<string, unknown>;
  /** HTTP status when the error is the hub's answer. */
  status?: number;
  cause?: unknown;
}

/**
 * A failure with a stable code and the exit code it maps to (`EXIT` of `@cuttle/shared`).
 * `code` is a CLI code or, for hub answers, the hub's own code (any string). Only `main.ts`
 * turns exit codes into a process exit; everything else throws a `CliError` (or a shared
 * `CuttleError`).
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly details: Record<string, unknown> | undefined;
  readonly status: number | undefined;

  constructor(code: CliErrorCode | (string & {}), message: string, options: CliErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode;
    this.details = options.details;
    this.status = options.status;
  }
}

/** One problem of a validation error, as the hub's `details.fields` and the CLI's own checks name them. */
export interface FieldProblem {
  field: string;
  message: string;
}

function isFieldProblem(value: unknown): value is FieldProblem {
  return typeof value === 'object' && value !== null && 'field' in value && 'message' in value && typeof value.field === 'string' && typeof value.message === 'string';
}

/** `details.fields` of an error when it is a list of `{field, message}` (anything else: none). */
export function fieldProblems(details: Record<string, unknown> | undefined): FieldProblem[] {
  const fields = details?.fields;
  return Array.isArray(fields) ? fields.filter(isFieldProblem) : [];
}

export function usageError(message: string, details?: Record<string, unknown>): CliError {
  return new CliError('usage', message, { exitCode: EXIT.usage, details });
}

export function invalidOption(message: string, details?: Record<string, unknown>): CliError {
  return new CliError('invalid-option', message, { exitCode: EXIT.usage, details });
}

export function badResponse(message: string, details?: Record<string, unknown>): CliError {
  return new CliError('bad-response', message, { exitCode: EXIT.failed, details });
}

export function interrupted(): CliError {
  return new CliError('interrupted', 'interrupted', { exitCode: EXIT.failed });
}

/** Exit code for an HTTP error status of the hub. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.unreachable;
  if (status === 400 || status === 413 || status === 415) return EXIT.usage;
  return EXIT.failed;
}

export interface ErrorReport {
  exitCode: ExitCode;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The one place that decides what any thrown value means for the user: its code,
 * message and exit code. Shared `CuttleError`s are local validation failures (exit 2).
 */
export function describeError(error: unknown): ErrorReport {
  if (error instanceof CliError) {
    return withDetails({ exitCode: error.exitCode, code: error.code, message: error.message }, error.details);
  }
  if (isCuttleError(error)) {
    return withDetails({ exitCode: EXIT.usage, code: error.code, message: error.message }, error.details);
  }
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: EXIT.failed, code: 'internal', message: `unexpected error: ${message}` };
}

function withDetails(report: ErrorReport, details: Record<string, unknown> | undefined): ErrorReport {
  return details === undefined ? report : { ...report, details };
}
