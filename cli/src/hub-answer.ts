import { STATUS_CODES } from 'node:http';
import type { z } from 'zod';
import { ErrorBodySchema } from '@cuttle/shared';
import { CliError, badResponse, exitCodeForStatus } from './cli-error.js';
import type { HubResponse } from './hub-transport.js';

/** How the CLI reads the hub's answers: error bodies and success bodies checked against the shared schemas. */

export function statusText(status: number): string {
  const text = STATUS_CODES[status];
  return text === undefined ? String(status) : `${status} ${text}`;
}

/** The hub's `{"error":{code,message,details}}`, or a generic error when the body is not one. */
export function hubError(response: Pick<HubResponse, 'status' | 'body'>, hadApiKey: boolean): CliError {
  const exitCode = exitCodeForStatus(response.status);
  const parsed = ErrorBodySchema.safeParse(parseJson(response.body));
  const hint = response.status === 401 && !hadApiKey ? ' (no API key was given: pass --api-key or set CUTTLE_API_KEY)' : '';
  if (parsed.success) {
    const { code, message, details } = parsed.data.error;
    return new CliError(code, `${message}${hint}`, { exitCode, details, status: response.status });
  }
  const excerpt = response.body.toString('utf8', 0, Math.min(response.body.length, 200)).trim();
  return new CliError('hub-error', `the hub answered ${statusText(response.status)}${hint}`, {
    exitCode,
    status: response.status,
    details: excerpt === '' ? { status: response.status } : { status: response.status, body: excerpt },
  });
}

export function parseJson(body: Buffer | string): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A value that does not match its schema is `bad-response` (exit 1). */
export function parseValue<T>(json: unknown, schema: z.ZodType<T>, what: string, status: number): T {
  if (json === undefined) throw badResponse(`the hub's ${what} answer is not JSON`, { status });
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw badResponse(`the hub's ${what} answer does not have the expected shape: ${issues.join('; ')}`, { status, issues });
  }
  return parsed.data;
}

/** A success body that does not match its schema is `bad-response` (exit 1). */
export function parseAnswer<T>(response: HubResponse, schema: z.ZodType<T>, what: string): T {
  return parseValue(parseJson(response.body), schema, what, response.status);
}

/** Passes an expected status through; turns an error status into the hub's error, anything else into `bad-response`. */
export function expectStatus<R extends Pick<HubResponse, 'status' | 'body' | 'headers'>>(response: R, statuses: readonly number[], hadApiKey: boolean): R {
  if (statuses.includes(response.status)) return response;
  if (response.status >= 400) throw hubError(response, hadApiKey);
  const location = response.headers.location;
  const where = typeof location === 'string' ? ` (redirect to ${location}; point --hub there)` : '';
  throw badResponse(`the hub answered ${statusText(response.status)} where ${statuses.join(' or ')} was expected${where}`, {
    status: response.status,
  });
}
