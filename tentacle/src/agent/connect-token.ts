import { randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { CONNECT_TOKEN_ALGORITHM, CONNECT_TOKEN_AUDIENCE, PROTOCOL_LIMITS } from '@cuttle/shared';

/** Who this tentacle is: its registered name and its private key (parsed once, shared). */
export interface TentacleIdentity {
  name: string;
  privateKey: KeyObject;
}

/**
 * A fresh connect token for one websocket upgrade: ES256, short-lived, naming the machine as
 * issuer and subject and the hub as audience, with a random id. Never log its value.
 */
export function signConnectToken(identity: TentacleIdentity, lifetimeSeconds: number = PROTOCOL_LIMITS.connectTokenLifetimeSeconds): string {
  return jwt.sign({}, identity.privateKey, {
    algorithm: CONNECT_TOKEN_ALGORITHM,
    expiresIn: lifetimeSeconds,
    issuer: identity.name,
    subject: identity.name,
    audience: CONNECT_TOKEN_AUDIENCE,
    jwtid: randomUUID(),
  });
}
