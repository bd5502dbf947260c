import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CuttleError, type ApiKeyInfo, type CreatedApiKey, type Scope } from '@cuttle/shared';
import type { Clock } from '../clock.js';
import type { ApiKeyRecord, ApiKeyRepository } from './api-key-repository.js';

/** Generated keys look like `cuttle_<keyId>_<secret>`: 16 hex id, 64 hex (32 random bytes) secret. */
const KEY_FORMAT = /^cuttle_([0-9a-f]{16})_([0-9a-f]{64})$/;
/** last_used_at is written at most this often per key, so reads do not turn into writes. */
const TOUCH_INTERVAL_MS = 60_000;

export interface Principal {
  name: string;
  scopes: Scope[];
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * The lookup id of a key: the embedded id of a generated key; for a key chosen by an
 * operator (CUTTLE_ADMIN_API_KEY) an id derived from its hash.
 */
function keyIdOf(key: string): string {
  return KEY_FORMAT.exec(key)?.[1] ?? `h${sha256(`cuttle-key-id:${key}`).toString('hex').slice(0, 31)}`;
}

export function generateApiKey(): string {
  return `cuttle_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('hex')}`;
}

export class ApiKeyService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly clock: Clock,
  ) {}

  /** On a database without keys, stores the first admin key (given, or generated and returned to be shown once). */
  seedAdminKey(given: string | null): { key: string; generated: boolean } | null {
    return this.keys.transaction(() => {
      if (this.keys.count() > 0) return null;
      const key = given ?? generateApiKey();
      this.store('admin', ['admin'], key);
      return { key, generated: given === null };
    });
  }

  create(name: string, scopes: Scope[]): CreatedApiKey {
    const key = generateApiKey();
    const record = this.store(name, [...new Set(scopes)], key);
    return { name: record.name, scopes: record.scopes, key, createdAt: record.createdAt };
  }

  list(): ApiKeyInfo[] {
    return this.keys.list().map(({ name, scopes, createdAt, lastUsedAt }) => ({ name, scopes, createdAt, lastUsedAt }));
  }

  revoke(name: string): void {
    this.keys.transaction(() => {
      const record = this.keys.findByName(name);
      if (!record) throw new CuttleError('api-key-not-found', `No API key is named "${name}".`, { name });
      const otherAdmins = this.keys.list().filter((k) => k.name !== record.name && k.scopes.includes('admin'));
      if (record.scopes.includes('admin') && otherAdmins.length === 0) {
        throw new CuttleError('last-admin-key', `"${name}" is the last admin key; create another admin key before revoking it.`, { name });
      }
      this.keys.deleteByName(record.name);
    });
  }

  /** Returns who holds the key, or null for an unknown key. Compares hashes in constant time. */
  authenticate(key: string): Principal | null {
    const record = this.keys.findByKeyId(keyIdOf(key));
    if (!record) return null;
    const presented = sha256(key);
    if (presented.length !== record.keyHash.length || !timingSafeEqual(presented, record.keyHash)) return null;
    const now = this.clock();
    if (!record.lastUsedAt || now.getTime() - Date.parse(record.lastUsedAt) >= TOUCH_INTERVAL_MS) {
      this.keys.touch(record.keyId, now.toISOString());
    }
    return { name: record.name, scopes: record.scopes };
  }

  private store(name: string, scopes: Scope[], key: string): ApiKeyRecord {
    const record: ApiKeyRecord = {
      name,
      keyId: keyIdOf(key),
      keyHash: sha256(key),
      scopes,
      createdAt: this.clock().toISOString(),
      lastUsedAt: null,
    };
    if (!this.keys.insert(record)) throw new CuttleError('api-key-exists', `An API key named "${name}" already exists.`, { name });
    return record;
  }
}
