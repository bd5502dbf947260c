import { CliError, EXIT, errorCodeOf } from './cli-error.js';

const REFUSED_OR_UNROUTABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);
const TLS = new Set([
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'HOSTNAME_MISMATCH',
]);

function isTls(code: string): boolean {
  return TLS.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.startsWith('ERR_OSSL_');
}

export function timeoutError(hubUrl: URL, timeoutMs: number): CliError {
  return new CliError('hub-timeout', `the hub at ${hubUrl.origin} did not answer within ${timeoutMs / 1000} s (raise it with --timeout)`, {
    exitCode: EXIT.unreachable,
    details: { hub: hubUrl.origin, timeoutMs },
  });
}

/**
 * Turns a socket-level failure (no HTTP answer to show) into an exit-3 error that says
 * what happened in words; Node's own messages are empty for some of these (AggregateError).
 */
export function networkError(error: unknown, hubUrl: URL): CliError {
  if (error instanceof CliError) return error;
  const code = errorCodeOf(error) ?? 'unknown';
  const hub = hubUrl.origin;
  const raw = error instanceof Error && error.message !== '' ? error.message : code;
  const details = { hub, cause: code };
  const make = (cliCode: 'hub-unreachable' | 'connection-lost' | 'hub-timeout', message: string) =>
    new CliError(cliCode, message, { exitCode: EXIT.unreachable, details, cause: error });

  if (REFUSED_OR_UNROUTABLE.has(code)) {
    const what = code === 'ECONNREFUSED' ? 'connection refused' : 'no route to the host';
    return make('hub-unreachable', `cannot reach the hub at ${hub}: ${what} (${code}); is it running, and is --hub right?`);
  }
  if (DNS.has(code)) return make('hub-unreachable', `cannot reach the hub at ${hub}: the host name "${hubUrl.hostname}" does not resolve (${code})`);
  if (isTls(code)) return make('hub-unreachable', `TLS with the hub at ${hub} failed: ${raw}`);
  if (code === 'ETIMEDOUT') return make('hub-timeout', `the connection to the hub at ${hub} timed out (${code})`);
  if (BROKEN.has(code) || raw === 'socket hang up') {
    return make('connection-lost', `the hub at ${hub} closed the connection before answering (${code})`);
  }
  return make('hub-unreachable', `cannot talk to the hub at ${hub}: ${raw}`);
}
