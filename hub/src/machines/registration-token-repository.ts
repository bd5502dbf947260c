import type { Db } from '../db/open-database.js';

export interface RegistrationTokenRecord {
  id: number;
  environments: string[];
  roles: string[];
  expiresAt: string;
  usedAt: string | null;
}

interface TokenRow {
  id: number;
  environments: string;
  roles: string;
  expires_at: string;
  used_at: string | null;
}

export class RegistrationTokenRepository {
  constructor(private readonly db: Db) {}

  insert(token: { tokenHash: Buffer; environments: string[]; roles: string[]; createdBy: string | null; createdAt: string; expiresAt: string }): void {
    this.db
      .prepare('INSERT INTO registration_tokens (token_hash, environments, roles, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(token.tokenHash, JSON.stringify(token.environments), JSON.stringify(token.roles), token.createdBy, token.createdAt, token.expiresAt);
  }

  findByHash(tokenHash: Buffer): RegistrationTokenRecord | null {
    const row = this.db.prepare('SELECT id, environments, roles, expires_at, used_at FROM registration_tokens WHERE token_hash = ?').get(tokenHash) as
      | TokenRow
      | undefined;
    if (!row) return null;
    return {
      id: row.id,
      environments: JSON.parse(row.environments) as string[],
      roles: JSON.parse(row.roles) as string[],
      expiresAt: row.expires_at,
      usedAt: row.used_at,
    };
  }

  markUsed(id: number, usedAt: string, machineName: string): void {
    this.db.prepare('UPDATE registration_tokens SET used_at = ?, used_by_machine = ? WHERE id = ?').run(usedAt, machineName, id);
  }

  /** Drops tokens that expired more than a day ago. */
  pruneExpired(before: string): void {
    this.db.prepare('DELETE FROM registration_tokens WHERE expires_at < ?').run(before);
  }
}
