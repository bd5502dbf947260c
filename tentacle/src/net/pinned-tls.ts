import { createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import { fingerprintFromNode, sameFingerprint } from './fingerprint.js';

/** The code of the error `checkServerIdentity` returns when the fingerprint differs. */
export const FINGERPRINT_MISMATCH_CODE = 'ERR_CUTTLE_HUB_FINGERPRINT_MISMATCH';

export class HubFingerprintMismatchError extends Error {
  override readonly name = 'HubFingerprintMismatchError';
  readonly code = FINGERPRINT_MISMATCH_CODE;
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`hub certificate fingerprint mismatch: expected ${expected}, got ${actual}`);
  }
}

/** Options to spread into `tls.connect`, `https.request` or the `ws` client. */
export interface PinnedTlsOptions {
  /** the hub's own (self-signed) certificate is the only trust anchor */
  ca: string[];
  /** built once from `ca`, so that hundreds of connections share one parsed context */
  secureContext: SecureContext;
  /** replaces the host-name check with the fingerprint check */
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
  rejectUnauthorized: true;
  minVersion: 'TLSv1.2';
}

/** The pinned hub: its certificate, its fingerprint and the TLS options built from them. */
export interface PinnedHubTls {
  certPem: string;
  /** `sha256:AB:CD:...` */
  fingerprint: string;
  options: PinnedTlsOptions;
}

/**
 * The one place that says how the tentacle trusts the hub, used by `register` (after the
 * fingerprint check) and by every connect of `run`: the certificate saved at registration is
 * the trust anchor, and its SHA-256 fingerprint must match exactly. Host names do not matter.
 */
export function createPinnedTls(certPem: string, fingerprint: string): PinnedHubTls {
  const ca = [certPem];
  return {
    certPem,
    fingerprint,
    options: {
      ca,
      secureContext: createSecureContext({ ca }),
      checkServerIdentity: (_host, cert) => {
        const actual = fingerprintFromNode(cert.fingerprint256);
        return sameFingerprint(actual, fingerprint) ? undefined : new HubFingerprintMismatchError(fingerprint, actual);
      },
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
  };
}
