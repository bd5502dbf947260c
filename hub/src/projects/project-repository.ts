import type { ProjectDefinition, Release, Step } from '@cuttle/shared';
import type { Db } from '../db/open-database.js';

export interface ProjectRecord {
  id: number;
  name: string;
  definition: ProjectDefinition;
  createdAt: string;
  updatedAt: string;
}

interface ProjectRow {
  id: number;
  name: string;
  definition: string;
  created_at: string;
  updated_at: string;
}

interface ReleaseRow {
  id: number;
  project: string;
  version: string;
  notes: string | null;
  steps: string;
  created_at: string;
  created_by: string | null;
}

interface ReleasePackageRow {
  package_id: string;
  version: string;
  sha256: string;
  size: number;
}

const toProject = (row: ProjectRow): ProjectRecord => ({
  id: row.id,
  name: row.name,
  definition: JSON.parse(row.definition) as ProjectDefinition,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export class ProjectRepository {
  constructor(private readonly db: Db) {}

  list(): ProjectRecord[] {
    return (this.db.prepare('SELECT * FROM projects ORDER BY name').all() as ProjectRow[]).map(toProject);
  }

  findByName(name: string): ProjectRecord | null {
    const row = this.db.prepare('SELECT * FROM projects WHERE name = ?').get(name) as ProjectRow | undefined;
    return row ? toProject(row) : null;
  }

  insert(name: string, definition: ProjectDefinition, at: string): void {
    this.db.prepare('INSERT INTO projects (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?)').run(name, JSON.stringify(definition), at, at);
  }

  update(id: number, definition: ProjectDefinition, at: string): void {
    this.db.prepare('UPDATE projects SET definition = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(definition), at, id);
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM projects WHERE id = ?').run(id);
  }

  releaseVersions(projectId: number): string[] {
    return (this.db.prepare('SELECT version FROM releases WHERE project_id = ?').all(projectId) as Array<{ version: string }>).map((r) => r.version);
  }

  /** Returns the new release's row id. */
  insertRelease(projectId: number, release: Omit<Release, 'project'>): number {
    const id = Number(
      this.db
        .prepare('INSERT INTO releases (project_id, version, notes, steps, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)')
        .run(projectId, release.version, release.notes, JSON.stringify(release.steps), release.createdAt, release.createdBy).lastInsertRowid,
    );
    const insert = this.db.prepare('INSERT INTO release_packages (release_id, package_id, version, sha256, size) VALUES (?, ?, ?, ?, ?)');
    for (const p of release.packages) insert.run(id, p.id, p.version, p.sha256, p.size);
    return id;
  }

  findRelease(projectId: number, version: string): Release | null {
    const row = this.db
      .prepare('SELECT r.*, p.name AS project FROM releases r JOIN projects p ON p.id = r.project_id WHERE r.project_id = ? AND r.version = ?')
      .get(projectId, version) as ReleaseRow | undefined;
    return row ? this.toRelease(row) : null;
  }

  /** Newest first (by creation). */
  listReleases(projectId: number): Release[] {
    const rows = this.db
      .prepare('SELECT r.*, p.name AS project FROM releases r JOIN projects p ON p.id = r.project_id WHERE r.project_id = ? ORDER BY r.id DESC')
      .all(projectId) as ReleaseRow[];
    return rows.map((row) => this.toRelease(row));
  }

  /** Whether any release uses this package version (such a version is never deleted). */
  isPackageUsed(packageId: string, version: string): boolean {
    return this.db.prepare('SELECT 1 FROM release_packages WHERE package_id = ? AND version = ? LIMIT 1').get(packageId, version) !== undefined;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private toRelease(row: ReleaseRow): Release {
    const packages = (
      this.db.prepare('SELECT package_id, version, sha256, size FROM release_packages WHERE release_id = ? ORDER BY package_id').all(row.id) as ReleasePackageRow[]
    ).map((p) => ({ id: p.package_id, version: p.version, sha256: p.sha256, size: p.size }));
    return {
      project: row.project,
      version: row.version,
      notes: row.notes,
      createdAt: row.created_at,
      createdBy: row.created_by,
      steps: JSON.parse(row.steps) as Step[],
      packages,
    };
  }
}
