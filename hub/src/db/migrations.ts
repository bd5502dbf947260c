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
  {
    version: 2,
    name: 'environments, registration tokens and machines',
    sql: `
      CREATE TABLE environments (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        description TEXT NOT NULL DEFAULT '',
        position INTEGER NOT NULL,
        created_at TEXT NOT NULL
      );

      CREATE TABLE registration_tokens (
        id INTEGER PRIMARY KEY,
        token_hash BLOB NOT NULL UNIQUE,
        environments TEXT NOT NULL,
        roles TEXT NOT NULL,
        created_by TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        used_by_machine TEXT
      );

      CREATE TABLE machines (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        public_key TEXT NOT NULL,
        roles TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        registered_at TEXT NOT NULL,
        last_seen_at TEXT,
        tentacle_version TEXT,
        os TEXT,
        free_disk_bytes INTEGER
      );

      CREATE TABLE machine_environments (
        machine_id INTEGER NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
        environment_id INTEGER NOT NULL REFERENCES environments (id) ON DELETE RESTRICT,
        PRIMARY KEY (machine_id, environment_id)
      );
      CREATE INDEX machine_environments_by_environment ON machine_environments (environment_id);
    `,
  },
  {
    version: 3,
    name: 'projects and releases',
    sql: `
      CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        definition TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );

      CREATE TABLE releases (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        version TEXT NOT NULL,
        notes TEXT,
        steps TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT,
        UNIQUE (project_id, version)
      );

      CREATE TABLE release_packages (
        release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
        package_id TEXT NOT NULL COLLATE NOCASE,
        version TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (release_id, package_id)
      );
      CREATE INDEX release_packages_by_package ON release_packages (package_id, version);
    `,
  },
  {
    version: 4,
    name: 'release packages by content',
    sql: `CREATE INDEX release_packages_by_sha256 ON release_packages (sha256);`,
  },
];
