import { connect } from 'node:tls';
import { derToPem, fingerprintFromNode } from './fingerprint.js';
import type { HubEndpoint } from './hub-url.js';

export interface PresentedCertificate {
  certPem: string;
  /** `sha256:AB:CD:...` */
  fingerprint: string;
}

export const CERTIFICATE_PROBE_TIMEOUT_MS = 10_000;

/**
 * Opens one TLS connection to the hub without trusting anything and without sending a byte
 * of application data, and returns the certificate the hub presented. Only the caller's
 * fingerprint comparison decides whether it is trusted.
 */
export function fetchHubCertificate(endpoint: HubEndpoint, timeoutMs: number = CERTIFICATE_PROBE_TIMEOUT_MS): Promise<PresentedCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      ...(endpoint.servername === undefined ? {} : { servername: endpoint.servername }),
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(Object.assign(new Error(`no TLS handshake with ${endpoint.host}:${endpoint.port} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      if (cert.raw === undefined || cert.fingerprint256 === undefined) {
        reject(Object.assign(new Error('the hub presented no TLS certificate'), { code: 'ERR_TLS_NO_PEER_CERTIFICATE' }));
        return;
      }
      resolve({ certPem: derToPem(cert.raw), fingerprint: fingerprintFromNode(cert.fingerprint256) });
    });
  });
}
