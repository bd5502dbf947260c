import { describe, expect, it } from 'vitest';
import { CREDENTIALS_REFUSED, describeNetworkFailure } from './network-failure.js';
import { normalizeFingerprint, sameFingerprint } from './fingerprint.js';
import { parseHubUrl } from './hub-url.js';
import { HubFingerprintMismatchError } from './pinned-tls.js';

const FP = `sha256:${'0A:'.repeat(31)}0A`;

describe('fingerprints', () => {
  it('normalizes case and rejects other shapes', () => {
    expect(normalizeFingerprint(FP.toLowerCase())).toBe(FP);
    expect(normalizeFingerprint(` ${FP} `)).toBe(FP);
    expect(normalizeFingerprint('sha256:0A:0B')).toBeNull();
    expect(normalizeFingerprint(FP.replace('sha256:', 'sha1:'))).toBeNull();
    expect(normalizeFingerprint(FP.replace(/:/g, ''))).toBeNull();
    expect(sameFingerprint(FP, FP.toLowerCase())).toBe(true);
  });
});

describe('parseHubUrl', () => {
  it('accepts wss://host:port and keeps the origin', () => {
    expect(parseHubUrl('wss://hub.example:10943')).toEqual({
      origin: 'wss://hub.example:10943',
      host: 'hub.example',
      port: 10943,
      servername: 'hub.example',
      httpsOrigin: 'https://hub.example:10943',
    });
    expect(parseHubUrl('wss://127.0.0.1:5/')).toMatchObject({ host: '127.0.0.1', port: 5, servername: undefined });
    expect(parseHubUrl('wss://[::1]:7')).toMatchObject({ host: '::1', port: 7, servername: undefined, origin: 'wss://[::1]:7' });
    expect(parseHubUrl('wss://hub')).toMatchObject({ port: 443 });
  });

  it.each(['https://hub:1', 'ws://hub:1', 'wss://u:p@hub:1', 'wss://hub:1/path', 'wss://hub:1?x=1', 'not a url'])('refuses %s', (raw) => {
    expect(() => parseHubUrl(raw)).toThrow(/not a usable hub URL/);
  });
});

describe('describeNetworkFailure', () => {
  const where = 'wss://hub:1';
  it('names a refused upgrade, a refused connection, a pinning failure and a timeout', () => {
    expect(describeNetworkFailure(new Error('Unexpected server response: 401'), where)).toMatchObject({ kind: 'unauthorized', message: `${CREDENTIALS_REFUSED} (HTTP 401)` });
    expect(describeNetworkFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), where)).toMatchObject({
      kind: 'unreachable',
      message: 'hub unreachable at wss://hub:1: connection refused (ECONNREFUSED)',
    });
    const aggregate = Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], ''), {});
    expect(describeNetworkFailure(aggregate, where).kind).toBe('unreachable');
    expect(describeNetworkFailure(new HubFingerprintMismatchError(FP, 'sha256:XX'), where)).toMatchObject({
      kind: 'certificate',
      message: `hub certificate fingerprint mismatch: expected ${FP}, got sha256:XX`,
    });
    expect(describeNetworkFailure(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), where, FP).message).toContain(
      `fingerprint mismatch: the hub at wss://hub:1 presents a certificate that is not the pinned one (expected ${FP}`,
    );
    expect(describeNetworkFailure(new Error('Opening handshake has timed out'), where).kind).toBe('timeout');
    expect(describeNetworkFailure(new Error('Unexpected server response: 404'), where).kind).toBe('http-status');
  });
});
