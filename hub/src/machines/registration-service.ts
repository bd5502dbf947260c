import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import {
  CLOSE_CODES,
  CuttleError,
  type CreateRegistrationTokenRequest,
  type RegisterRequest,
  type RegisterResponse,
  type RegistrationToken,
} from '@cuttle/shared';
import type { Logger } from 'pino';
import type { ApiKeyService } from '../api-keys/api-key-service.js';
import type { Clock } from '../clock.js';
import type { EnvironmentService } from '../environments/environment-service.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { MachineRepository } from './machine-repository.js';
import type { RegistrationTokenRepository } from './registration-token-repository.js';

export const DEFAULT_TOKEN_MINUTES = 60;
const TOKEN_PREFIX = 'cuttle-reg_';

const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** One-time registration tokens, and the registration of tentacles with them. */
export class RegistrationService {
  constructor(
    private readonly tokens: RegistrationTokenRepository,
    private readonly machines: MachineRepository,
    private readonly environments: EnvironmentService,
    private readonly apiKeys: ApiKeyService,
    private readonly connections: ConnectionRegistry,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  createToken(request: CreateRegistrationTokenRequest, createdBy: string | null): RegistrationToken {
    const environments = this.environments.resolve(request.environments ?? []).map((e) => e.name);
    const roles = [...new Set(request.roles ?? [])];
    const now = this.clock();
    const expiresAt = new Date(now.getTime() + (request.expiresInMinutes ?? DEFAULT_TOKEN_MINUTES) * 60_000).toISOString();
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('hex')}`;
    this.tokens.pruneExpired(new Date(now.getTime() - 24 * 3600_000).toISOString());
    this.tokens.insert({ tokenHash: hashToken(token), environments, roles, createdBy, createdAt: now.toISOString(), expiresAt });
    this.log.info({ environments, roles, expiresAt, createdBy }, 'registration token created');
    return { token, expiresAt, environments, roles };
  }

  /**
   * Registers a tentacle. The token is a one-time registration token, or an admin API key;
   * only an admin key may replace a machine of the same name (with force).
   */
  register(request: RegisterRequest): RegisterResponse {
    const publicKey = checkPublicKey(request.publicKey);
    const roles = [...new Set(request.roles)];
    const now = this.clock().toISOString();
    const admin = this.apiKeys.authenticate(request.token)?.scopes.includes('admin') === true;

    const result = this.machines.transaction(() => {
      const token = admin ? null : this.takeToken(request.token, now);
      const environments = this.environments.resolve(request.environments);
      if (token) {
        const outside = environments.map((e) => e.name).filter((name) => token.environments.length > 0 && !token.environments.some((t) => t.toLowerCase() === name.toLowerCase()));
        const extraRoles = roles.filter((role) => token.roles.length > 0 && !token.roles.some((t) => t.toLowerCase() === role.toLowerCase()));
        if (outside.length > 0 || extraRoles.length > 0) {
          throw new CuttleError('token-scope-mismatch', `This registration token allows environments [${token.environments.join(', ')}] and roles [${token.roles.join(', ')}] only.`, {
            environments: outside,
            roles: extraRoles,
          });
        }
      }
      const existing = this.machines.findByName(request.name);
      if (existing && !request.force) {
        throw new CuttleError('machine-exists', `A machine named "${existing.name}" is registered already; re-register with --force and an admin API key as the token, or remove it first.`, {
          name: existing.name,
        });
      }
      if (existing && !admin) {
        throw new CuttleError('force-needs-admin', `Replacing the registered machine "${existing.name}" needs an admin API key as the token.`, { name: existing.name });
      }
      const environmentIds = environments.map((e) => e.id);
      if (existing) this.machines.replace(existing.id, { publicKey, roles, registeredAt: now }, environmentIds);
      else this.machines.insert({ name: request.name, publicKey, roles, registeredAt: now }, environmentIds);
      if (token) this.tokens.markUsed(token.id, now, request.name);
      return { replaced: existing !== null, name: existing?.name ?? request.name, environments: environments.map((e) => e.name) };
    });

    if (result.replaced) this.connections.disconnect(result.name, CLOSE_CODES.revoked, 'this machine was registered again with a new key');
    this.log.info({ machine: result.name, roles, environments: result.environments, replaced: result.replaced }, 'tentacle registered');
    return { name: result.name, roles, environments: result.environments, registeredAt: now };
  }

  private takeToken(token: string, now: string) {
    const record = token.startsWith(TOKEN_PREFIX) ? this.tokens.findByHash(hashToken(token)) : null;
    if (!record) throw new CuttleError('invalid-registration-token', 'The registration token is not known to this hub; create one with `cuttle machine token`.');
    if (record.usedAt) throw new CuttleError('registration-token-used', `This registration token was used at ${record.usedAt}; tokens work once.`);
    if (record.expiresAt <= now) throw new CuttleError('registration-token-expired', `This registration token expired at ${record.expiresAt}.`);
    return record;
  }
}

/** Accepts an EC P-256 public key in SPKI PEM and returns it normalized. */
function checkPublicKey(pem: string): string {
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
      return key.export({ type: 'spki', format: 'pem' }).toString();
    }
  } catch {
    // reported below
  }
  throw new CuttleError('invalid-public-key', 'The public key must be an EC P-256 (ES256) public key in PEM (SPKI) form.');
}
