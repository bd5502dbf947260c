import type { PackageInfo } from '@cuttle/shared';
import type { Db } from '../db/open-database.js';

interface PackageRow {
  package_id: string;
  version: string;
  sha256: string;
  size: number;
  uploaded_at: string;
  uploaded_by: string | null;
}

const toInfo = (row: PackageRow): PackageInfo => ({
  id: row.package_id,
  version: row.version,
  sha256: row.sha256,
  size: row.size,
  uploadedAt: row.uploaded_at,
  uploadedBy: row.uploaded_by,
});

export class PackageRepository {
  constructor(private readonly db: Db) {}

  find(id: string, version: string): PackageInfo | null {
    const row = this.db.prepare('SELECT * FROM packages WHERE package_id = ? AND version = ?').get(id, version) as PackageRow | undefined;
    return row ? toInfo(row) : null;
  }

  /** All packages, or the versions of one id (ids compare case-insensitively). Unordered. */
  list(id?: string): PackageInfo[] {
    const rows = (
      id === undefined ? this.db.prepare('SELECT * FROM packages').all() : this.db.prepare('SELECT * FROM packages WHERE package_id = ?').all(id)
    ) as PackageRow[];
    return rows.map(toInfo);
  }

  /** Inserts, or replaces the row of the same id and version. */
  upsert(info: PackageInfo): void {
    this.db
      .prepare(
        `INSERT INTO packages (package_id, version, sha256, size, uploaded_at, uploaded_by)
         VALUES (@id, @version, @sha256, @size, @uploadedAt, @uploadedBy)
         ON CONFLICT (package_id, version) DO UPDATE SET
           sha256 = excluded.sha256, size = excluded.size, uploaded_at = excluded.uploaded_at, uploaded_by = excluded.uploaded_by`,
      )
      .run(info);
  }

  delete(id: string, version: string): boolean {
    return this.db.prepare('DELETE FROM packages WHERE package_id = ? AND version = ?').run(id, version).changes === 1;
  }

  /** Whether a package or a release still needs these bytes (a release keeps the SHA-256 it was made with). */
  isShaReferenced(sha256: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM packages WHERE sha256 = ? UNION ALL SELECT 1 FROM release_packages WHERE sha256 = ? LIMIT 1')
        .get(sha256, sha256) !== undefined
    );
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
