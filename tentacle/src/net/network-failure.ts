import { CERTIFICATE_VALIDITY_CODES, UNTRUSTED_CERTIFICATE_CODES, classifyNetworkErrorCode, errorCodeOf, type NetworkErrorClass } from '@cuttle/shared';
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

/**
 * Codes the shared classification counts as a broken connection or a TLS failure, which the
 * tentacle reports as kind `other` with their raw message (as do `ERR_OSSL_*` codes).
 */
const REPORTED_AS_OTHER = new Set(['ERR_STREAM_DESTROYED', 'CERT_REVOKED', 'HOSTNAME_MISMATCH']);
/** `ws` reports a non-101 answer to the upgrade only in its message. */
const UNEXPECTED_RESPONSE = /^Unexpected server response: (\d{3})$/;

export const CREDENTIALS_REFUSED = "the hub refused this tentacle's credentials (revoked, disabled, or unknown)";

/** The error's code or, for the AggregateError of Node's happy-eyeballs connect, the first code among its parts. */
function failureCodeOf(error: unknown): string | undefined {
  const code = errorCodeOf(error);
  if (code !== undefined || typeof error !== 'object' || error === null) return code;
  const parts = (error as { errors?: unknown }).errors;
  if (!Array.isArray(parts)) return undefined;
  for (const part of parts) {
    const inner = failureCodeOf(part);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

function classify(code: string): NetworkErrorClass {
  return REPORTED_AS_OTHER.has(code) || code.startsWith('ERR_OSSL_') ? 'other' : classifyNetworkErrorCode(code);
}

export function describeNetworkFailure(error: unknown, where: string, pinnedFingerprint?: string): NetworkFailure {
  const code = failureCodeOf(error) ?? '';
  const raw = error instanceof Error && error.message !== '' ? error.message : code || String(error);
  const status = UNEXPECTED_RESPONSE.exec(raw)?.[1];
  if (status !== undefined) {
    if (status === '401') return { kind: 'unauthorized', message: `${CREDENTIALS_REFUSED} (HTTP 401)`, cause: status };
    if (status === '403') return { kind: 'unauthorized', message: `the hub at ${where} refused this tentacle: the machine is disabled there (HTTP 403)`, cause: status };
    if (status === '503') return { kind: 'http-status', message: `the hub at ${where} does not accept tentacle connections right now (HTTP 503)`, cause: status };
    return { kind: 'http-status', message: `the hub at ${where} answered HTTP ${status} instead of accepting the websocket`, cause: status };
  }
  if (code === FINGERPRINT_MISMATCH_CODE) return { kind: 'certificate', message: raw, cause: code };
  // with a pinned certificate, an untrusted chain means "this is not the certificate we pinned"
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    const expected = pinnedFingerprint === undefined ? '' : `expected ${pinnedFingerprint}, `;
    return {
      kind: 'certificate',
      message: `hub certificate fingerprint mismatch: the hub at ${where} presents a certificate that is not the pinned one (${expected}TLS says: ${raw})`,
      cause: code,
    };
  }
  if (CERTIFICATE_VALIDITY_CODES.has(code)) {
    return { kind: 'certificate', message: `the hub's certificate at ${where} is outside its validity period (${code})`, cause: code };
  }
  const kind = classify(code);
  if (kind === 'refused') {
    const what = code === 'ECONNREFUSED' ? 'connection refused' : 'no route to the host';
    return { kind: 'unreachable', message: `hub unreachable at ${where}: ${what} (${code})`, cause: code };
  }
  if (kind === 'dns') return { kind: 'unreachable', message: `hub unreachable at ${where}: the host name does not resolve (${code})`, cause: code };
  if (kind === 'timeout' || raw === 'Opening handshake has timed out') {
    return { kind: 'timeout', message: `the hub at ${where} did not answer in time (${code || 'handshake timeout'})`, cause: code || 'timeout' };
  }
  if (kind === 'broken' || raw === 'socket hang up') {
    return { kind: 'connection-lost', message: `the connection to the hub at ${where} broke (${code || raw})`, cause: code || 'socket-hang-up' };
  }
  if (kind === 'tls') {
    return { kind: 'unreachable', message: `TLS with the hub at ${where} failed: ${raw}`, cause: code };
  }
  return { kind: 'other', message: `cannot talk to the hub at ${where}: ${raw}`, cause: code || 'unknown' };
}
