import type { VariableScope } from '@cuttle/shared';
import type { Db } from '../db/open-database.js';
import type { StoredVariable } from './variable-model.js';

interface VariableRow {
  name: string;
  value: string | null;
  secret: string | null;
  scope: string | null;
}

interface SnapshotRow extends VariableRow {
  source: number;
  set_name: string | null;
}

export interface VariableSetRecord {
  id: number;
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** A stored variable of a release snapshot, with where it came from (0 the project, n the n-th included set). */
export interface SnapshotVariable extends StoredVariable {
  source: number;
  setName: string | null;
}

const toVariable = (row: VariableRow): StoredVariable => ({
  name: row.name,
  value: row.value,
  secret: row.secret,
  scope: row.scope === null ? null : (JSON.parse(row.scope) as VariableScope),
});

const scopeText = (scope: VariableScope | null) => (scope === null ? null : JSON.stringify(scope));

/** Project variables, variable sets, release snapshots and the master key check value. */
export class VariableRepository {
  constructor(private readonly db: Db) {}

  masterKeyCheck(): string | null {
    const row = this.db.prepare('SELECT check_value FROM master_key_check WHERE id = 1').get() as { check_value: string } | undefined;
    return row?.check_value ?? null;
  }

  saveMasterKeyCheck(value: string, at: string): void {
    this.db.prepare('INSERT INTO master_key_check (id, check_value, created_at) VALUES (1, ?, ?)').run(value, at);
  }

  /** Whether any secret is stored anywhere (then only the master key that sealed it can open it). */
  hasSecrets(): boolean {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM project_variables WHERE secret IS NOT NULL
           UNION ALL SELECT 1 FROM variable_set_variables WHERE secret IS NOT NULL
           UNION ALL SELECT 1 FROM release_variables WHERE secret IS NOT NULL LIMIT 1`,
        )
        .get() !== undefined
    );
  }

  projectVariables(projectId: number): StoredVariable[] {
    return (this.db.prepare('SELECT name, value, secret, scope FROM project_variables WHERE project_id = ? ORDER BY position').all(projectId) as VariableRow[]).map(
      toVariable,
    );
  }

  replaceProjectVariables(projectId: number, variables: readonly StoredVariable[]): void {
    this.db.prepare('DELETE FROM project_variables WHERE project_id = ?').run(projectId);
    const insert = this.db.prepare('INSERT INTO project_variables (project_id, position, name, value, secret, scope) VALUES (?, ?, ?, ?, ?, ?)');
    variables.forEach((v, position) => insert.run(projectId, position, v.name, v.value, v.secret, scopeText(v.scope)));
  }

  listSets(): Array<VariableSetRecord & { variableCount: number }> {
    const rows = this.db
      .prepare(
        `SELECT s.id, s.name, s.created_at, s.updated_at, (SELECT COUNT(*) FROM variable_set_variables v WHERE v.set_id = s.id) AS variable_count
         FROM variable_sets s ORDER BY s.name`,
      )
      .all() as Array<{ id: number; name: string; created_at: string; updated_at: string; variable_count: number }>;
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, updatedAt: r.updated_at, variableCount: r.variable_count }));
  }

  findSet(name: string): VariableSetRecord | null {
    const row = this.db.prepare('SELECT id, name, created_at, updated_at FROM variable_sets WHERE name = ?').get(name) as
      | { id: number; name: string; created_at: string; updated_at: string }
      | undefined;
    return row ? { id: row.id, name: row.name, createdAt: row.created_at, updatedAt: row.updated_at } : null;
  }

  setVariables(setId: number): StoredVariable[] {
    return (this.db.prepare('SELECT name, value, secret, scope FROM variable_set_variables WHERE set_id = ? ORDER BY position').all(setId) as VariableRow[]).map(
      toVariable,
    );
  }

  /** Creates the set or replaces its variables; returns its id. */
  saveSet(name: string, variables: readonly StoredVariable[], at: string): number {
    const existing = this.findSet(name);
    let id: number;
    if (existing) {
      id = existing.id;
      this.db.prepare('UPDATE variable_sets SET updated_at = ? WHERE id = ?').run(at, id);
      this.db.prepare('DELETE FROM variable_set_variables WHERE set_id = ?').run(id);
    } else {
      id = Number(this.db.prepare('INSERT INTO variable_sets (name, created_at, updated_at) VALUES (?, ?, ?)').run(name, at, at).lastInsertRowid);
    }
    const insert = this.db.prepare('INSERT INTO variable_set_variables (set_id, position, name, value, secret, scope) VALUES (?, ?, ?, ?, ?, ?)');
    variables.forEach((v, position) => insert.run(id, position, v.name, v.value, v.secret, scopeText(v.scope)));
    return id;
  }

  deleteSet(id: number): void {
    this.db.prepare('DELETE FROM variable_sets WHERE id = ?').run(id);
  }

  releaseId(projectId: number, version: string): number | null {
    const row = this.db.prepare('SELECT id FROM releases WHERE project_id = ? AND version = ?').get(projectId, version) as { id: number } | undefined;
    return row?.id ?? null;
  }

  /** Replaces the release's snapshot. */
  saveSnapshot(releaseId: number, variables: readonly SnapshotVariable[], at: string): void {
    this.db.prepare('DELETE FROM release_variables WHERE release_id = ?').run(releaseId);
    this.db.prepare('INSERT INTO release_variable_snapshots (release_id, taken_at) VALUES (?, ?) ON CONFLICT (release_id) DO UPDATE SET taken_at = excluded.taken_at').run(releaseId, at);
    const insert = this.db.prepare('INSERT INTO release_variables (release_id, position, source, set_name, name, value, secret, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    variables.forEach((v, position) => insert.run(releaseId, position, v.source, v.setName, v.name, v.value, v.secret, scopeText(v.scope)));
  }

  /** The release's snapshot, or null for a release made before variables existed. */
  snapshot(releaseId: number): { takenAt: string; variables: SnapshotVariable[] } | null {
    const taken = this.db.prepare('SELECT taken_at FROM release_variable_snapshots WHERE release_id = ?').get(releaseId) as { taken_at: string } | undefined;
    if (!taken) return null;
    const rows = this.db
      .prepare('SELECT source, set_name, name, value, secret, scope FROM release_variables WHERE release_id = ? ORDER BY position')
      .all(releaseId) as SnapshotRow[];
    return { takenAt: taken.taken_at, variables: rows.map((r) => ({ ...toVariable(r), source: r.source, setName: r.set_name })) };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
