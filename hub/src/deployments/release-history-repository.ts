import type { InstalledApp } from '@cuttle/shared';
import type { Db } from '../db/open-database.js';

/** The release the hub recorded as current on a machine for a project and environment. */
export interface MachineReleaseRecord {
  machine: string;
  project: string;
  environment: string;
  release: string;
  deploymentId: number;
  taskId: number;
  deployedAt: string;
  /** whether that deployment installed the project's main app on the machine (not only scripts) */
  installedPackage: boolean;
}

/** What a machine's disk holds for one app, by its last inventory (or a job result since). */
export interface InventoryApp {
  release: string | null;
  reportedAt: string;
}

interface ReleaseRow {
  machine: string;
  project: string;
  environment: string;
  release: string;
  deployment_id: number;
  task_id: number;
  deployed_at: string;
  installed_package: number;
}

const toRecord = (row: ReleaseRow): MachineReleaseRecord => ({
  machine: row.machine,
  project: row.project,
  environment: row.environment,
  release: row.release,
  deploymentId: row.deployment_id,
  taskId: row.task_id,
  deployedAt: row.deployed_at,
  installedPackage: row.installed_package === 1,
});

/** The main app (slot null) is stored with slot '' so that it takes part in the primary key. */
const slotKey = (slot: string | null) => slot ?? '';

/** Which release is current on which machine: the hub's record and what the tentacles report. */
export class ReleaseHistoryRepository {
  constructor(private readonly db: Db) {}

  recordRelease(record: MachineReleaseRecord): void {
    this.db
      .prepare(
        `INSERT INTO machine_releases (machine, project, environment, release, deployment_id, task_id, deployed_at, installed_package)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (machine, project, environment) DO UPDATE SET
           release = excluded.release, deployment_id = excluded.deployment_id, task_id = excluded.task_id,
           deployed_at = excluded.deployed_at, installed_package = excluded.installed_package`,
      )
      .run(
        record.machine,
        record.project,
        record.environment,
        record.release,
        record.deploymentId,
        record.taskId,
        record.deployedAt,
        record.installedPackage ? 1 : 0,
      );
  }

  /** Ordered by project, then environment. */
  releasesOfMachine(machine: string): MachineReleaseRecord[] {
    return (this.db.prepare('SELECT * FROM machine_releases WHERE machine = ? ORDER BY project, environment').all(machine) as ReleaseRow[]).map(toRecord);
  }

  releasesOf(project: string, environment: string): MachineReleaseRecord[] {
    return (this.db.prepare('SELECT * FROM machine_releases WHERE project = ? AND environment = ? ORDER BY machine').all(project, environment) as ReleaseRow[]).map(
      toRecord,
    );
  }

  findRelease(machine: string, project: string, environment: string): MachineReleaseRecord | null {
    const row = this.db.prepare('SELECT * FROM machine_releases WHERE machine = ? AND project = ? AND environment = ?').get(machine, project, environment) as
      | ReleaseRow
      | undefined;
    return row ? toRecord(row) : null;
  }

  /** Replaces everything known about the machine's disk with its new inventory. */
  replaceInventory(machine: string, apps: readonly InstalledApp[], reportedAt: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM machine_inventory_apps WHERE machine = ?').run(machine);
      this.db
        .prepare('INSERT INTO machine_inventory_reports (machine, reported_at) VALUES (?, ?) ON CONFLICT (machine) DO UPDATE SET reported_at = excluded.reported_at')
        .run(machine, reportedAt);
      // OR REPLACE: a tentacle that lists one app twice must not fail the whole report
      const insert = this.db.prepare(
        `INSERT OR REPLACE INTO machine_inventory_apps (machine, project, environment, slot, release, package_id, package_version, deployed_at, reported_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const app of apps) {
        insert.run(machine, app.app.project, app.app.environment, slotKey(app.app.slot), app.release, app.packageId, app.packageVersion, app.deployedAt, reportedAt);
      }
    })();
  }

  /** One app's state as a job result just told it (the tentacle installed and switched to it). */
  upsertInventoryApp(machine: string, app: InstalledApp, reportedAt: string): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO machine_inventory_apps (machine, project, environment, slot, release, package_id, package_version, deployed_at, reported_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(machine, app.app.project, app.app.environment, slotKey(app.app.slot), app.release, app.packageId, app.packageVersion, app.deployedAt, reportedAt);
  }

  /** When the machine last sent an inventory; null when it never did. */
  lastReport(machine: string): string | null {
    const row = this.db.prepare('SELECT reported_at FROM machine_inventory_reports WHERE machine = ?').get(machine) as { reported_at: string } | undefined;
    return row?.reported_at ?? null;
  }

  inventoryApp(machine: string, project: string, environment: string, slot: string | null): InventoryApp | null {
    const row = this.db
      .prepare('SELECT release, reported_at FROM machine_inventory_apps WHERE machine = ? AND project = ? AND environment = ? AND slot = ?')
      .get(machine, project, environment, slotKey(slot)) as { release: string | null; reported_at: string } | undefined;
    return row ? { release: row.release, reportedAt: row.reported_at } : null;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
