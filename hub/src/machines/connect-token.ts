import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { CONNECT_TOKEN_ALGORITHM, CONNECT_TOKEN_AUDIENCE, PROTOCOL_LIMITS } from '@cuttle/shared';
import type { MachineRecord } from './machine-repository.js';

export type ConnectRefusal = { status: 401 | 403; reason: string };
export type ConnectVerdict = { ok: true; machine: MachineRecord } | ({ ok: false } & ConnectRefusal);

const KEY_CACHE_LIMIT = 10_000;

/** Parsed public keys by their PEM: parsing costs more than checking a signature. */
export class PublicKeyCache {
  private readonly keys = new Map<string, KeyObject>();

  get(pem: string): KeyObject {
    let key = this.keys.get(pem);
    if (!key) {
      key = createPublicKey(pem);
      if (this.keys.size >= KEY_CACHE_LIMIT) this.keys.clear();
      this.keys.set(pem, key);
    }
    return key;
  }
}

/** Clock skew allowed between hub and tentacle. */
const CLOCK_TOLERANCE_SECONDS = 60;

/**
 * Checks the JWT a tentacle presents in its upgrade request: ES256 only (never `none` or HMAC),
 * signed by the machine's registered key, with `iss` = the machine, `aud` = the hub, and an
 * `exp` that is present, not past, and not too far ahead.
 */
export function verifyConnectToken(
  token: string,
  findMachine: (name: string) => MachineRecord | null,
  nowSeconds: number,
  keys: PublicKeyCache = new PublicKeyCache(),
): ConnectVerdict {
  const refuse = (reason: string, status: 401 | 403 = 401): ConnectVerdict => ({ ok: false, status, reason });
  let decoded: jwt.Jwt | null;
  try {
    decoded = jwt.decode(token, { complete: true });
  } catch {
    return refuse('the connect token is not a JWT');
  }
  if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null) return refuse('the connect token is not a JWT');
  if (decoded.header.alg !== CONNECT_TOKEN_ALGORITHM) return refuse(`the connect token must be signed with ${CONNECT_TOKEN_ALGORITHM}`);
  const issuer = decoded.payload.iss;
  if (typeof issuer !== 'string') return refuse('the connect token names no issuer');
  const machine = findMachine(issuer);
  if (!machine) return refuse('no machine with that name is registered');

  let payload: jwt.JwtPayload;
  try {
    const verified = jwt.verify(token, keys.get(machine.publicKey), {
      algorithms: [CONNECT_TOKEN_ALGORITHM],
      audience: CONNECT_TOKEN_AUDIENCE,
      issuer,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      clockTimestamp: nowSeconds,
    });
    if (typeof verified === 'string') return refuse('the connect token has no claims');
    payload = verified;
  } catch (error) {
    return refuse(`the connect token is not valid: ${(error as Error).message}`);
  }
  if (typeof payload.exp !== 'number') return refuse('the connect token has no expiry (exp)');
  if (payload.exp - nowSeconds > PROTOCOL_LIMITS.maxConnectTokenLifetimeSeconds + CLOCK_TOLERANCE_SECONDS) {
    return refuse(`the connect token lives longer than ${PROTOCOL_LIMITS.maxConnectTokenLifetimeSeconds} s`);
  }
  if (machine.disabled) return refuse('this machine is disabled on the hub', 403);
  return { ok: true, machine };
}
