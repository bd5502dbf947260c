import type { Environment } from '@cuttle/shared';
import type { Db } from '../db/open-database.js';

interface EnvironmentRow {
  id: number;
  name: string;
  description: string;
  position: number;
  created_at: string;
}

export interface EnvironmentRecord extends Environment {
  id: number;
}

const toRecord = (row: EnvironmentRow): EnvironmentRecord => ({
  id: row.id,
  name: row.name,
  description: row.description,
  position: row.position,
  createdAt: row.created_at,
});

export class EnvironmentRepository {
  constructor(private readonly db: Db) {}

  /** In deployment order. */
  list(): EnvironmentRecord[] {
    return (this.db.prepare('SELECT * FROM environments ORDER BY position, id').all() as EnvironmentRow[]).map(toRecord);
  }

  findByName(name: string): EnvironmentRecord | null {
    const row = this.db.prepare('SELECT * FROM environments WHERE name = ?').get(name) as EnvironmentRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Inserts; returns null when the name is taken. */
  insert(name: string, description: string, createdAt: string): EnvironmentRecord | null {
    const position = (this.db.prepare('SELECT COUNT(*) AS n FROM environments').get() as { n: number }).n;
    const result = this.db
      .prepare('INSERT INTO environments (name, description, position, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING')
      .run(name, description, position, createdAt);
    return result.changes === 1 ? this.findByName(name) : null;
  }

  update(id: number, fields: { name?: string; description?: string }): void {
    if (fields.name !== undefined) this.db.prepare('UPDATE environments SET name = ? WHERE id = ?').run(fields.name, id);
    if (fields.description !== undefined) this.db.prepare('UPDATE environments SET description = ? WHERE id = ?').run(fields.description, id);
  }

  /** Rewrites positions 0..n-1 in the given order of ids. */
  reorder(ids: number[]): void {
    const set = this.db.prepare('UPDATE environments SET position = ? WHERE id = ?');
    ids.forEach((id, position) => set.run(position, id));
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM environments WHERE id = ?').run(id);
  }

  machineCount(id: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM machine_environments WHERE environment_id = ?').get(id) as { n: number }).n;
  }

  /** How many deployments targeted the environment (deployments keep its name, not its id). */
  deploymentCount(name: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM deployments WHERE environment = ? COLLATE NOCASE').get(name) as { n: number }).n;
  }

  /** What names the environment in a variable's scope: projects, variable sets and release snapshots (`project version`). */
  variableUsers(name: string): { projects: string[]; variableSets: string[]; releases: string[] } {
    const names = (sql: string) => (this.db.prepare(sql).all(name) as Array<{ name: string }>).map((r) => r.name);
    const named = `json_each(v.scope, '$.environments') e WHERE v.scope IS NOT NULL AND e.value = ? COLLATE NOCASE`;
    return {
      projects: names(`SELECT DISTINCT p.name AS name FROM project_variables v JOIN projects p ON p.id = v.project_id, ${named} ORDER BY p.name`),
      variableSets: names(`SELECT DISTINCT s.name AS name FROM variable_set_variables v JOIN variable_sets s ON s.id = v.set_id, ${named} ORDER BY s.name`),
      releases: names(
        `SELECT DISTINCT p.name || ' ' || r.version AS name FROM release_variables v JOIN releases r ON r.id = v.release_id JOIN projects p ON p.id = r.project_id, ${named} ORDER BY 1`,
      ),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
