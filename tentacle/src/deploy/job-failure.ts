import { isCuttleError, type JobError, type TargetFailureCode, TARGET_FAILURE_CODES } from '@cuttle/shared';

/** A job ended without success, with one of the stable target failure codes. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
  constructor(
    readonly code: TargetFailureCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const CODES: ReadonlySet<string> = new Set(TARGET_FAILURE_CODES);

export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for an error that says the disk is full, also when the shared extraction wrapped it. */
export function isDiskFull(error: unknown): boolean {
  if (errnoCode(error) === 'ENOSPC' || errnoCode(error) === 'EDQUOT') return true;
  if (isCuttleError(error)) {
    const code = error.details?.code;
    return code === 'ENOSPC' || code === 'EDQUOT';
  }
  return false;
}

/**
 * The JobError of any failure: a JobFailure keeps its code, a full disk is `disk-full`, a shared
 * CuttleError whose code is a target failure code (package-corrupt, invalid-zip, ...) keeps it,
 * anything else is `fallback`.
 */
export function toJobError(error: unknown, fallback: TargetFailureCode): JobError {
  const message = error instanceof Error ? error.message : String(error);
  let code: TargetFailureCode = fallback;
  if (error instanceof JobFailure) code = error.code;
  else if (isDiskFull(error)) code = 'disk-full';
  else if (isCuttleError(error) && CODES.has(error.code)) code = error.code as TargetFailureCode;
  const text = code === 'disk-full' && !/disk|space/i.test(message) ? `the disk is full: ${message}` : message;
  return { code, message: text.length <= 2048 ? text : `${text.slice(0, 2047)}…` };
}

/** The failure as a JobFailure: kept when it is one, else coded like toJobError with `fallback`. */
export function asJobFailure(error: unknown, fallback: TargetFailureCode): JobFailure {
  if (error instanceof JobFailure) return error;
  const { code, message } = toJobError(error, fallback);
  return new JobFailure(code, message, { cause: error });
}
