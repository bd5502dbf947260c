import type { OsInfo } from '@cuttle/shared';
import type { Db } from '../db/open-database.js';

export interface MachineRecord {
  id: number;
  name: string;
  publicKey: string;
  roles: string[];
  environments: string[];
  disabled: boolean;
  registeredAt: string;
  lastSeenAt: string | null;
  tentacleVersion: string | null;
  os: OsInfo | null;
  freeDiskBytes: number | null;
}

interface MachineRow {
  id: number;
  name: string;
  public_key: string;
  roles: string;
  disabled: number;
  registered_at: string;
  last_seen_at: string | null;
  tentacle_version: string | null;
  os: string | null;
  free_disk_bytes: number | null;
  environments: string | null;
}

const SELECT = `
  SELECT m.*, (
    SELECT json_group_array(e.name) FROM (
      SELECT e.name FROM machine_environments me JOIN environments e ON e.id = me.environment_id
      WHERE me.machine_id = m.id ORDER BY e.position, e.id
    ) e
  ) AS environments
  FROM machines m`;

const toRecord = (row: MachineRow): MachineRecord => ({
  id: row.id,
  name: row.name,
  publicKey: row.public_key,
  roles: JSON.parse(row.roles) as string[],
  environments: JSON.parse(row.environments ?? '[]') as string[],
  disabled: row.disabled === 1,
  registeredAt: row.registered_at,
  lastSeenAt: row.last_seen_at,
  tentacleVersion: row.tentacle_version,
  os: row.os ? (JSON.parse(row.os) as OsInfo) : null,
  freeDiskBytes: row.free_disk_bytes,
});

export interface MachineFilter {
  environment?: string | undefined;
  role?: string | undefined;
}

export class MachineRepository {
  constructor(private readonly db: Db) {}

  findByName(name: string): MachineRecord | null {
    const row = this.db.prepare(`${SELECT} WHERE m.name = ?`).get(name) as MachineRow | undefined;
    return row ? toRecord(row) : null;
  }

  list(filter: MachineFilter = {}): MachineRecord[] {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.environment !== undefined) {
      where.push('EXISTS (SELECT 1 FROM machine_environments me JOIN environments e ON e.id = me.environment_id WHERE me.machine_id = m.id AND e.name = ?)');
      params.push(filter.environment);
    }
    if (filter.role !== undefined) {
      where.push('EXISTS (SELECT 1 FROM json_each(m.roles) r WHERE r.value = ? COLLATE NOCASE)');
      params.push(filter.role);
    }
    const sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY m.name`;
    return (this.db.prepare(sql).all(...params) as MachineRow[]).map(toRecord);
  }

  insert(machine: { name: string; publicKey: string; roles: string[]; registeredAt: string }, environmentIds: number[]): number {
    const id = Number(
      this.db
        .prepare('INSERT INTO machines (name, public_key, roles, registered_at) VALUES (?, ?, ?, ?)')
        .run(machine.name, machine.publicKey, JSON.stringify(machine.roles), machine.registeredAt).lastInsertRowid,
    );
    this.setEnvironments(id, environmentIds);
    return id;
  }

  /** Re-registration: a new key, roles and environments; the history of the name stays. */
  replace(id: number, machine: { publicKey: string; roles: string[]; registeredAt: string }, environmentIds: number[]): void {
    this.db
      .prepare('UPDATE machines SET public_key = ?, roles = ?, registered_at = ?, disabled = 0 WHERE id = ?')
      .run(machine.publicKey, JSON.stringify(machine.roles), machine.registeredAt, id);
    this.setEnvironments(id, environmentIds);
  }

  setRoles(id: number, roles: string[]): void {
    this.db.prepare('UPDATE machines SET roles = ? WHERE id = ?').run(JSON.stringify(roles), id);
  }

  setDisabled(id: number, disabled: boolean): void {
    this.db.prepare('UPDATE machines SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, id);
  }

  setEnvironments(id: number, environmentIds: number[]): void {
    this.db.prepare('DELETE FROM machine_environments WHERE machine_id = ?').run(id);
    const insert = this.db.prepare('INSERT INTO machine_environments (machine_id, environment_id) VALUES (?, ?)');
    for (const environmentId of environmentIds) insert.run(id, environmentId);
  }

  recordHello(name: string, fields: { tentacleVersion: string; os: OsInfo; freeDiskBytes: number | null; seenAt: string }): void {
    this.db
      .prepare('UPDATE machines SET tentacle_version = ?, os = ?, free_disk_bytes = ?, last_seen_at = ? WHERE name = ?')
      .run(fields.tentacleVersion, JSON.stringify(fields.os), fields.freeDiskBytes, fields.seenAt, name);
  }

  recordSeen(name: string, seenAt: string, freeDiskBytes?: number | null): void {
    if (freeDiskBytes === undefined) this.db.prepare('UPDATE machines SET last_seen_at = ? WHERE name = ?').run(seenAt, name);
    else this.db.prepare('UPDATE machines SET last_seen_at = ?, free_disk_bytes = ? WHERE name = ?').run(seenAt, freeDiskBytes, name);
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM machines WHERE id = ?').run(id);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
