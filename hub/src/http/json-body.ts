import express, { type RequestHandler } from 'express';
import { CuttleError } from '@cuttle/shared';

/** A small JSON parser for one route; a body of another type is 415. */
export function jsonBody(limit: number): RequestHandler[] {
  return [
    (req, _res, next) => {
      if (req.headers['content-length'] !== '0' && (req.headers['transfer-encoding'] || req.headers['content-length']) && !req.is('application/json')) {
        throw new CuttleError('unsupported-media-type', 'Send the body as JSON (Content-Type: application/json).');
      }
      next();
    },
    express.json({ limit, strict: true }),
  ];
}
