import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CuttleError, isCuttleError, type ErrorBody } from '@cuttle/shared';
import { ERROR_STATUS } from './error-status.js';
import { lingerIfBodyUnread } from './early-answer.js';

export function sendError(req: Request, res: Response, error: CuttleError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  lingerIfBodyUnread(req, res);
  const body: ErrorBody = { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
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

/** The one place that turns thrown errors into HTTP answers; unknown faults are a bare 500. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (isCuttleError(error)) {
      sendError(req, res, error);
      return;
    }
    const bodyParserError = error as { type?: string; status?: number };
    if (bodyParserError.type === 'entity.too.large') {
      sendError(req, res, new CuttleError('body-too-large', 'The JSON body is larger than this route accepts.'));
      return;
    }
    if (bodyParserError.type === 'entity.parse.failed') {
      sendError(req, res, new CuttleError('invalid-json', 'The body is not valid JSON.'));
      return;
    }
    if (bodyParserError.type === 'encoding.unsupported' || bodyParserError.type === 'charset.unsupported') {
      sendError(req, res, new CuttleError('unsupported-media-type', 'The body encoding or charset is not supported.'));
      return;
    }
    log.error({ err: error, method: req.method, path: req.path }, 'unexpected error');
    sendError(req, res, new CuttleError('internal', 'An unexpected error occurred; the hub log has the details.'));
  };
}
