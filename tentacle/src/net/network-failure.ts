import { errorCodeOf } from '../tentacle-error.js';
import { FINGERPRINT_MISMATCH_CODE } from './pinned-tls.js';

/**
 * What went wrong on the way to the hub, in words. The one function that reads socket, TLS
 * and `ws` handshake errors; register maps `kind` to an exit code, the agent logs `message`
 * and retries every kind.
 */
export type FailureKind = 'unauthorized' | 'certificate' | 'unreachable' | 'timeout' | 'connection-lost' | 'http-status' | 'other';

export interface NetworkFailure {
  kind: FailureKind;
  message: string;
  /** the Node/TLS error code, or the HTTP status as a string */
  cause: string;
}

const REFUSED_OR_UNROUTABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);
/** TLS verification results meaning "this is not the certificate we pinned". */
export const NOT_THE_PINNED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);
/** `ws` reports a non-101 answer to the upgrade only in its message. */
const UNEXPECTED_RESPONSE = /^Unexpected server response: (\d{3})$/;

export const CREDENTIALS_REFUSED = "the hub refused this tentacle's credentials (revoked, disabled, or unknown)";

export function describeNetworkFailure(error: unknown, where: string, pinnedFingerprint?: string): NetworkFailure {
  const code = errorCodeOf(error) ?? '';
  const raw = error instanceof Error && error.message !== '' ? error.message : code || String(error);
  const status = UNEXPECTED_RESPONSE.exec(raw)?.[1];
  if (status !== undefined) {
    if (status === '401') return { kind: 'unauthorized', message: `${CREDENTIALS_REFUSED} (HTTP 401)`, cause: status };
    if (status === '503') return { kind: 'http-status', message: `the hub at ${where} does not accept tentacle connections right now (HTTP 503)`, cause: status };
    return { kind: 'http-status', message: `the hub at ${where} answered HTTP ${status} instead of accepting the websocket`, cause: status };
  }
  if (code === FINGERPRINT_MISMATCH_CODE) return { kind: 'certificate', message: raw, cause: code };
  if (NOT_THE_PINNED_CERTIFICATE.has(code)) {
    const expected = pinnedFingerprint === undefined ? '' : `expected ${pinnedFingerprint}, `;
    return {
      kind: 'certificate',
      message: `hub certificate fingerprint mismatch: the hub at ${where} presents a certificate that is not the pinned one (${expected}TLS says: ${raw})`,
      cause: code,
    };
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return { kind: 'certificate', message: `the hub's certificate at ${where} is outside its validity period (${code})`, cause: code };
  }
  if (REFUSED_OR_UNROUTABLE.has(code)) {
    const what = code === 'ECONNREFUSED' ? 'connection refused' : 'no route to the host';
    return { kind: 'unreachable', message: `hub unreachable at ${where}: ${what} (${code})`, cause: code };
  }
  if (DNS.has(code)) return { kind: 'unreachable', message: `hub unreachable at ${where}: the host name does not resolve (${code})`, cause: code };
  if (code === 'ETIMEDOUT' || raw === 'Opening handshake has timed out') {
    return { kind: 'timeout', message: `the hub at ${where} did not answer in time (${code || 'handshake timeout'})`, cause: code || 'timeout' };
  }
  if (BROKEN.has(code) || raw === 'socket hang up') {
    return { kind: 'connection-lost', message: `the connection to the hub at ${where} broke (${code || raw})`, cause: code || 'socket-hang-up' };
  }
  if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code === 'EPROTO') {
    return { kind: 'unreachable', message: `TLS with the hub at ${where} failed: ${raw}`, cause: code };
  }
  return { kind: 'other', message: `cannot talk to the hub at ${where}: ${raw}`, cause: code || 'unknown' };
}
