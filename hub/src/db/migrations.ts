/**
 * Numbered schema migrations. Each runs once, in its own transaction, and moves
 * `PRAGMA user_version` to its number. Never edit a migration that has shipped:
 * add the next one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'api keys and packages',
    sql: `
      CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        key_id TEXT NOT NULL UNIQUE,
        key_hash BLOB NOT NULL,
        scopes TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_used_at TEXT
      );

      CREATE TABLE packages (
        id INTEGER PRIMARY KEY,
        package_id TEXT NOT NULL COLLATE NOCASE,
        version TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        uploaded_at TEXT NOT NULL,
        uploaded_by TEXT,
        UNIQUE (package_id, version)
      );
      CREATE INDEX packages_by_sha256 ON packages (sha256);
    `,
  },
];
