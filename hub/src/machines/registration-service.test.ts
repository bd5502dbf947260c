import { generateKeyPairSync } from 'node:crypto';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { CuttleError, type RegisterRequest } from '@cuttle/shared';
import { ApiKeyRepository } from '../api-keys/api-key-repository.js';
import { ApiKeyService } from '../api-keys/api-key-service.js';
import { openDatabase, type Db } from '../db/open-database.js';
import { EnvironmentRepository } from '../environments/environment-repository.js';
import { EnvironmentService } from '../environments/environment-service.js';
import { ConnectionRegistry } from './connection-registry.js';
import { verifyConnectToken } from './connect-token.js';
import { MachineRepository } from './machine-repository.js';
import { RegistrationService } from './registration-service.js';
import { RegistrationTokenRepository } from './registration-token-repository.js';
import jwt from 'jsonwebtoken';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return error instanceof CuttleError ? error.code : `unexpected: ${(error as Error).message}`;
  }
};

describe('registration', () => {
  let db: Db;
  let now: Date;
  let service: RegistrationService;
  let machines: MachineRepository;
  const publicKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const request = (token: string, extra: Partial<RegisterRequest> = {}): RegisterRequest => ({
    token,
    name: 'web-01',
    roles: ['web'],
    environments: ['Test'],
    publicKey: publicKey(),
    force: false,
    ...extra,
  });

  beforeEach(() => {
    db = openDatabase(':memory:').db;
    now = new Date('2026-03-01T10:00:00.000Z');
    const clock = () => now;
    const environments = new EnvironmentService(new EnvironmentRepository(db), clock);
    environments.create({ name: 'Test' });
    machines = new MachineRepository(db);
    service = new RegistrationService(
      new RegistrationTokenRepository(db),
      machines,
      environments,
      new ApiKeyService(new ApiKeyRepository(db), clock),
      new ConnectionRegistry(),
      clock,
      pino({ level: 'silent' }),
    );
  });

  it('refuses a token past its expiry and keeps nothing', () => {
    const { token } = service.createToken({ expiresInMinutes: 5 }, 'admin');
    now = new Date(now.getTime() + 5 * 60_000 + 1);
    expect(codeOf(() => service.register(request(token)))).toBe('registration-token-expired');
    expect(machines.list()).toEqual([]);
  });

  it('accepts a token just before its expiry, once', () => {
    const { token } = service.createToken({ expiresInMinutes: 5 }, 'admin');
    now = new Date(now.getTime() + 5 * 60_000 - 1000);
    expect(service.register(request(token)).name).toBe('web-01');
    expect(codeOf(() => service.register(request(token, { name: 'web-02' })))).toBe('registration-token-used');
  });

  it('does not spend a token on a refused registration', () => {
    const { token } = service.createToken({}, 'admin');
    expect(codeOf(() => service.register(request(token, { environments: ['Nope'] })))).toBe('unknown-environment');
    expect(service.register(request(token)).name).toBe('web-01');
  });

  it('refuses a token for an environment that does not exist when it is made', () => {
    expect(codeOf(() => service.createToken({ environments: ['Nope'] }, 'admin'))).toBe('unknown-environment');
  });
});

describe('connect tokens', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const record = {
    id: 1,
    name: 'web-01',
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    roles: [],
    environments: [],
    disabled: false,
    registeredAt: '',
    lastSeenAt: null,
    tentacleVersion: null,
    os: null,
    freeDiskBytes: null,
  };
  const nowSeconds = 1_800_000_000;
  const find = (name: string) => (name.toLowerCase() === 'web-01' ? record : null);
  const sign = (options: jwt.SignOptions, payload: object = {}) =>
    jwt.sign({ iat: nowSeconds, ...payload }, privateKey, { algorithm: 'ES256', issuer: 'web-01', audience: 'cuttle-hub', ...options });

  it('accepts a fresh ES256 token of the machine', () => {
    expect(verifyConnectToken(sign({ expiresIn: 300 }), find, nowSeconds)).toMatchObject({ ok: true, machine: { name: 'web-01' } });
  });
  it('refuses a token past exp (beyond the clock tolerance)', () => {
    expect(verifyConnectToken(sign({}, { exp: nowSeconds - 61 }), find, nowSeconds)).toMatchObject({ ok: false, status: 401 });
  });
  it('refuses a token without exp', () => {
    expect(verifyConnectToken(sign({}), find, nowSeconds)).toMatchObject({ ok: false, reason: expect.stringContaining('exp') });
  });
  it('refuses a disabled machine with 403', () => {
    const disabled = { ...record, disabled: true };
    expect(verifyConnectToken(sign({ expiresIn: 300 }), () => disabled, nowSeconds)).toMatchObject({ ok: false, status: 403 });
  });
  it('refuses garbage', () => {
    expect(verifyConnectToken('not.a.jwt', find, nowSeconds)).toMatchObject({ ok: false, status: 401 });
  });
});
