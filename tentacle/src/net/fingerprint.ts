import { X509Certificate } from 'node:crypto';

/** `sha256:` followed by 32 colon-separated hex byte pairs, the form the hub prints. */
const FINGERPRINT = /^sha256:((?:[0-9a-f]{2}:){31}[0-9a-f]{2})$/i;

/** The canonical form (`sha256:` + upper-case hex), or null when `raw` is not a fingerprint. */
export function normalizeFingerprint(raw: string): string | null {
  const match = FINGERPRINT.exec(raw.trim());
  return match?.[1] === undefined ? null : `sha256:${match[1].toUpperCase()}`;
}

/** Node's `fingerprint256` (upper-case hex pairs) in our `sha256:` form. */
export function fingerprintFromNode(fingerprint256: string): string {
  return `sha256:${fingerprint256.toUpperCase()}`;
}

export function fingerprintOfPem(certPem: string): string {
  return fingerprintFromNode(new X509Certificate(certPem).fingerprint256);
}

export function sameFingerprint(a: string, b: string): boolean {
  return a.toUpperCase() === b.toUpperCase();
}

/** DER bytes of a certificate as PEM text. */
export function derToPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
