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
  {
    version: 5,
    // History refers to projects, environments and machines by name, not by foreign key: a
    // removed machine's targets still show its name, and names are what a tentacle's disk uses.
    name: 'deployments, tasks, task logs and release history',
    sql: `
      CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        description TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        error_code TEXT,
        error TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX tasks_by_state ON tasks (state, id);

      CREATE TABLE deployments (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL UNIQUE REFERENCES tasks (id),
        project TEXT NOT NULL COLLATE NOCASE,
        release TEXT NOT NULL,
        environment TEXT NOT NULL COLLATE NOCASE,
        machines TEXT,
        skip_offline INTEGER NOT NULL,
        rollback_from TEXT,
        steps TEXT NOT NULL,
        packages TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT
      );
      CREATE INDEX deployments_by_project_environment ON deployments (project, environment, id);
      CREATE INDEX deployments_by_environment ON deployments (environment, id);

      CREATE TABLE task_targets (
        task_id INTEGER NOT NULL REFERENCES tasks (id),
        machine TEXT NOT NULL COLLATE NOCASE,
        position INTEGER NOT NULL,
        steps TEXT NOT NULL,
        state TEXT NOT NULL,
        step TEXT,
        phase TEXT,
        error_code TEXT,
        error TEXT,
        bytes_sent INTEGER NOT NULL DEFAULT 0,
        started_at TEXT,
        finished_at TEXT,
        PRIMARY KEY (task_id, machine)
      );
      CREATE INDEX task_targets_by_machine ON task_targets (machine, task_id);

      CREATE TABLE task_log (
        task_id INTEGER NOT NULL REFERENCES tasks (id),
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        machine TEXT,
        stream TEXT NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (task_id, seq)
      ) WITHOUT ROWID;

      CREATE TABLE machine_releases (
        machine TEXT NOT NULL COLLATE NOCASE,
        project TEXT NOT NULL COLLATE NOCASE,
        environment TEXT NOT NULL COLLATE NOCASE,
        release TEXT NOT NULL,
        deployment_id INTEGER NOT NULL,
        task_id INTEGER NOT NULL,
        deployed_at TEXT NOT NULL,
        installed_package INTEGER NOT NULL,
        PRIMARY KEY (machine, project, environment)
      );
      CREATE INDEX machine_releases_by_project ON machine_releases (project, environment);

      CREATE TABLE machine_inventory_reports (
        machine TEXT PRIMARY KEY COLLATE NOCASE,
        reported_at TEXT NOT NULL
      );

      CREATE TABLE machine_inventory_apps (
        machine TEXT NOT NULL COLLATE NOCASE,
        project TEXT NOT NULL COLLATE NOCASE,
        environment TEXT NOT NULL COLLATE NOCASE,
        slot TEXT NOT NULL,
        release TEXT,
        package_id TEXT,
        package_version TEXT,
        deployed_at TEXT,
        reported_at TEXT NOT NULL,
        PRIMARY KEY (machine, project, environment, slot)
      );
    `,
  },
  {
    version: 6,
    // Sensitive values live only in the `secret` columns, sealed with AES-256-GCM under the
    // master key (hub/src/variables/secret-box.ts); `value` is null for them. A release keeps its
    // own copy of every variable (ciphertexts included) as it was when the snapshot was taken.
    name: 'variables, variable sets, release variable snapshots and the master key check',
    sql: `
      CREATE TABLE master_key_check (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        check_value TEXT NOT NULL,
        created_at TEXT NOT NULL
      );

      CREATE TABLE project_variables (
        project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        value TEXT,
        secret TEXT,
        scope TEXT,
        PRIMARY KEY (project_id, position),
        CHECK ((value IS NULL) <> (secret IS NULL))
      ) WITHOUT ROWID;

      CREATE TABLE variable_sets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );

      CREATE TABLE variable_set_variables (
        set_id INTEGER NOT NULL REFERENCES variable_sets (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        value TEXT,
        secret TEXT,
        scope TEXT,
        PRIMARY KEY (set_id, position),
        CHECK ((value IS NULL) <> (secret IS NULL))
      ) WITHOUT ROWID;

      CREATE TABLE release_variable_snapshots (
        release_id INTEGER PRIMARY KEY REFERENCES releases (id) ON DELETE CASCADE,
        taken_at TEXT NOT NULL
      );

      CREATE TABLE release_variables (
        release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        source INTEGER NOT NULL,
        set_name TEXT,
        name TEXT NOT NULL,
        value TEXT,
        secret TEXT,
        scope TEXT,
        PRIMARY KEY (release_id, position),
        CHECK ((value IS NULL) <> (secret IS NULL))
      ) WITHOUT ROWID;
    `,
  },
];
