/**
 * The Node and TLS error codes of a failed connection, sorted into what happened. Pure:
 * each binary turns a class into its own error and its own wording.
 */

/** Nothing answers at that address, or there is no route to it. */
export const REFUSED_OR_UNROUTABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

/** The host name does not resolve. */
export const DNS_FAILURE_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);

/** The connection broke after it was made. */
export const BROKEN_CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
]);

/** TLS verification results meaning "the certificate chain is not one we trust". */
export const UNTRUSTED_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** TLS verification results meaning "the certificate is outside its validity period". */
export const CERTIFICATE_VALIDITY_CODES: ReadonlySet<string> = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** Every TLS failure with a code of its own; `ERR_TLS_*`, `ERR_SSL_*` and `ERR_OSSL_*` codes count too. */
export const TLS_FAILURE_CODES: ReadonlySet<string> = new Set([
  'EPROTO',
  ...CERTIFICATE_VALIDITY_CODES,
  ...UNTRUSTED_CERTIFICATE_CODES,
  'CERT_REVOKED',
  'HOSTNAME_MISMATCH',
]);

export type NetworkErrorClass = 'refused' | 'dns' | 'broken' | 'tls' | 'timeout' | 'other';

/** What a Node/TLS error code says about a failed connection; `other` for any code not listed above. */
export function classifyNetworkErrorCode(code: string): NetworkErrorClass {
  if (REFUSED_OR_UNROUTABLE_CODES.has(code)) return 'refused';
  if (DNS_FAILURE_CODES.has(code)) return 'dns';
  if (TLS_FAILURE_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.startsWith('ERR_OSSL_')) return 'tls';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (BROKEN_CONNECTION_CODES.has(code)) return 'broken';
  return 'other';
}

/** The `code` of a Node system error (ENOENT, ECONNREFUSED, ...), if it has one. */
export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
