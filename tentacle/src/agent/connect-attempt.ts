import type { RequestOptions } from 'node:https';
import type WebSocket from 'ws';
import { PROTOCOL_LIMITS } from '@cuttle/shared';
import { fetchHubCertificate } from '../net/hub-certificate.js';
import type { HubEndpoint } from '../net/hub-url.js';
import { describeNetworkFailure, type NetworkFailure } from '../net/network-failure.js';
import { FINGERPRINT_MISMATCH_CODE, type PinnedHubTls } from '../net/pinned-tls.js';

export type WebSocketOptions = RequestOptions & Pick<WebSocket.ClientOptions, 'perMessageDeflate' | 'maxPayload' | 'handshakeTimeout' | 'followRedirects'>;

/**
 * The `ws` client options of one connect: pinned TLS, the bearer token, no deflate, and room for
 * one package chunk per message (text frames are held to the smaller control limit on receipt).
 */
export function websocketOptions(tls: PinnedHubTls, endpoint: HubEndpoint, token: string, handshakeTimeoutMs: number): WebSocketOptions {
  return {
    ...tls.options,
    ...(endpoint.servername === undefined ? {} : { servername: endpoint.servername }),
    headers: { Authorization: `Bearer ${token}` },
    perMessageDeflate: false,
    maxPayload: PROTOCOL_LIMITS.maxBinaryMessageBytes,
    handshakeTimeout: handshakeTimeoutMs,
    followRedirects: false,
  };
}

/**
 * Why a connect failed. When TLS rejected the hub's certificate chain, one untrusting look
 * at what the hub presents now puts both fingerprints in the message.
 */
export async function explainConnectFailure(error: unknown, endpoint: HubEndpoint, tls: PinnedHubTls, probeTimeoutMs: number): Promise<NetworkFailure> {
  const failure = describeNetworkFailure(error, endpoint.origin, tls.fingerprint);
  if (failure.kind !== 'certificate' || failure.cause === FINGERPRINT_MISMATCH_CODE) return failure;
  try {
    const presented = await fetchHubCertificate(endpoint, probeTimeoutMs);
    if (presented.fingerprint === tls.fingerprint) return failure;
    return {
      ...failure,
      message: `hub certificate fingerprint mismatch: expected ${tls.fingerprint}, got ${presented.fingerprint}; if the hub's certificate was replaced on purpose, register this tentacle again`,
    };
  } catch {
    return failure;
  }
}
