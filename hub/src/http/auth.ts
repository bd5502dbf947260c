import type { Request, RequestHandler } from 'express';
import { CuttleError, type Scope } from '@cuttle/shared';
import type { ApiKeyService, Principal } from '../api-keys/api-key-service.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

function presentedKey(req: Request): string | null {
  const header = req.get('x-api-key');
  if (header) return header.trim();
  const authorization = req.get('authorization');
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return bearer?.[1] ?? null;
}

/** 401 without a known key; every route under /api/v1 passes through this. */
export function authenticate(keys: ApiKeyService): RequestHandler {
  return (req, _res, next) => {
    const key = presentedKey(req);
    if (!key) throw new CuttleError('unauthorized', 'An API key is required: send it in the X-Api-Key header.');
    const principal = keys.authenticate(key);
    if (!principal) throw new CuttleError('unauthorized', 'The API key is not known to this hub (revoked or mistyped).');
    req.principal = principal;
    next();
  };
}

/** 403 unless the key has the scope (admin has every scope). */
export function requireScope(scope: Scope): RequestHandler {
  return (req, _res, next) => {
    const scopes = req.principal?.scopes ?? [];
    if (!scopes.includes('admin') && !scopes.includes(scope)) {
      throw new CuttleError('forbidden', `This API key lacks the "${scope}" scope needed here.`, { required: scope, scopes });
    }
    next();
  };
}

export function principalName(req: Request): string | null {
  return req.principal?.name ?? null;
}
