import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CuttleError, isCuttleError, type ErrorBody, type ErrorCode } from '@cuttle/shared';
import { ERROR_STATUS } from './error-status.js';
import { lingerIfBodyUnread } from './early-answer.js';

/** The contract's error body for a domain error. */
export function errorBody(error: CuttleError): ErrorBody {
  return { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
}

export function sendError(req: Request, res: Response, error: CuttleError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  lingerIfBodyUnread(req, res);
  const body = errorBody(error);
  res.status(ERROR_STATUS[error.code]).json(body);
}

/** Turns zod issues into an invalid-request error naming the fields. */
export function validationError(error: z.ZodError, where: string): CuttleError {
  const fields = error.issues.map((issue) => ({ field: issue.path.join('.') || where, message: issue.message }));
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return new CuttleError('invalid-request', `The ${where} is invalid: ${summary}.`, { fields });
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

export const notFoundHandler: RequestHandler = (req) => {
  throw new CuttleError('not-found', `No route ${req.method} ${req.path}.`, { method: req.method, path: req.path });
};

/** The stable code of a 4xx status thrown by express, body-parser or another http-errors user. */
const CLIENT_STATUS_CODES: Readonly<Partial<Record<number, ErrorCode>>> = {
  400: 'invalid-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  413: 'body-too-large',
  415: 'unsupported-media-type',
};

/** body-parser / raw-body error types and what they mean to a client. */
const BODY_ERRORS: Readonly<Record<string, { code: ErrorCode; message: string }>> = {
  'entity.too.large': { code: 'body-too-large', message: 'The JSON body is larger than this route accepts.' },
  'entity.parse.failed': { code: 'invalid-json', message: 'The body is not valid JSON.' },
  'entity.verify.failed': { code: 'invalid-request', message: 'The body was refused.' },
  'encoding.unsupported': { code: 'unsupported-media-type', message: 'The body encoding or charset is not supported.' },
  'charset.unsupported': { code: 'unsupported-media-type', message: 'The body encoding or charset is not supported.' },
  'request.aborted': { code: 'upload-incomplete', message: 'The client aborted the request before its body was complete.' },
  'request.size.invalid': { code: 'invalid-request', message: 'The body is not as long as its Content-Length says.' },
  'parameters.too.many': { code: 'body-too-large', message: 'The body has too many parameters.' },
};

/** The numeric status an error carries (http-errors sets both `status` and `statusCode`), if any. */
function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  if (typeof status === 'number' && Number.isInteger(status)) return status;
  if (typeof statusCode === 'number' && Number.isInteger(statusCode)) return statusCode;
  return undefined;
}

/**
 * Maps an error that is the client's fault (bad percent-encoding in the path, a body body-parser
 * refused, any error carrying a 4xx status) to a CuttleError; undefined for server faults.
 */
export function clientError(error: unknown): CuttleError | undefined {
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
  const known = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
  if (known) return new CuttleError(known.code, known.message);
  const status = statusOf(error);
  if (error instanceof URIError && (status === undefined || status === 400)) {
    return new CuttleError('invalid-request', 'The request path is not valid percent-encoding.');
  }
  if (status === undefined || status < 400 || status > 499) return undefined;
  const code = CLIENT_STATUS_CODES[status] ?? 'invalid-request';
  // http-errors marks messages safe to show with expose (true for every 4xx it makes)
  const exposed = (error as { expose?: unknown }).expose !== false && error instanceof Error && error.message !== '' ? error.message : undefined;
  const message = exposed ? `The request was refused (${status}): ${exposed}` : `The request was refused (${status}).`;
  return new CuttleError(code, message.endsWith('.') ? message : `${message}.`, { status });
}

/**
 * What may be logged of a client's error: its type, status and the message the client got, never
 * what it carries (body-parser's `body`) nor its own message (JSON.parse quotes the text it read).
 */
function errorSummary(error: unknown, refused: CuttleError): { type?: string; status?: number; message: string } {
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
  const status = statusOf(error);
  return { ...(typeof type === 'string' ? { type } : {}), ...(status !== undefined ? { status } : {}), message: refused.message };
}

/** The one place that turns thrown errors into HTTP answers; client faults are 4xx, unknown faults a bare 500. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (isCuttleError(error)) {
      sendError(req, res, error);
      return;
    }
    const refused = clientError(error);
    if (refused) {
      // never the error itself: body-parser attaches the raw body it refused, which may hold secrets
      log.debug({ ...errorSummary(error, refused), method: req.method, path: req.path, code: refused.code }, 'client error');
      sendError(req, res, refused);
      return;
    }
    log.error({ err: error, method: req.method, path: req.path }, 'unexpected error');
    sendError(req, res, new CuttleError('internal', 'An unexpected error occurred; the hub log has the details.'));
  };
}
