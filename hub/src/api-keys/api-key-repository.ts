import type { Scope } from '@cuttle/shared';
import type { Db } from '../db/open-database.js';

export interface ApiKeyRecord {
  name: string;
  keyId: string;
  keyHash: Buffer;
  scopes: Scope[];
  createdAt: string;
  lastUsedAt: string | null;
}

interface ApiKeyRow {
  name: string;
  key_id: string;
  key_hash: Buffer;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
}

const toRecord = (row: ApiKeyRow): ApiKeyRecord => ({
  name: row.name,
  keyId: row.key_id,
  keyHash: row.key_hash,
  scopes: JSON.parse(row.scopes) as Scope[],
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
});

export class ApiKeyRepository {
  constructor(private readonly db: Db) {}

  /** Inserts; returns false when the name is taken. */
  insert(record: ApiKeyRecord): boolean {
    const result = this.db
      .prepare(
        `INSERT INTO api_keys (name, key_id, key_hash, scopes, created_at, last_used_at)
         VALUES (@name, @keyId, @keyHash, @scopes, @createdAt, @lastUsedAt)
         ON CONFLICT (name) DO NOTHING`,
      )
      .run({ ...record, scopes: JSON.stringify(record.scopes) });
    return result.changes === 1;
  }

  findByKeyId(keyId: string): ApiKeyRecord | null {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE key_id = ?').get(keyId) as ApiKeyRow | undefined;
    return row ? toRecord(row) : null;
  }

  findByName(name: string): ApiKeyRecord | null {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE name = ?').get(name) as ApiKeyRow | undefined;
    return row ? toRecord(row) : null;
  }

  list(): ApiKeyRecord[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY name').all() as ApiKeyRow[]).map(toRecord);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM api_keys').get() as { n: number }).n;
  }

  deleteByName(name: string): boolean {
    return this.db.prepare('DELETE FROM api_keys WHERE name = ?').run(name).changes === 1;
  }

  touch(keyId: string, at: string): void {
    this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE key_id = ?').run(at, keyId);
  }

  /** Runs fn in an immediate (write-locking) transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
