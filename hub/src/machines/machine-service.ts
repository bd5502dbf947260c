import { CLOSE_CODES, CuttleError, type HealthCheckResult, type Machine, type MachineStatus, type OsInfo, type UpdateMachineRequest } from '@cuttle/shared';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { EnvironmentService } from '../environments/environment-service.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { MachineFilter, MachineRecord, MachineRepository } from './machine-repository.js';

export interface HealthReport {
  freeDiskBytes: number | null;
  uptimeSeconds: number;
}

export const HEALTH_CHECK_TIMEOUT_MS = 10_000;

export class MachineService {
  constructor(
    private readonly repo: MachineRepository,
    private readonly environments: EnvironmentService,
    private readonly connections: ConnectionRegistry,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  list(filter: MachineFilter & { status?: MachineStatus | undefined } = {}): Machine[] {
    return this.repo
      .list(filter)
      .map((record) => this.toMachine(record))
      .filter((m) => filter.status === undefined || m.status === filter.status);
  }

  get(name: string): Machine {
    return this.toMachine(this.require(name));
  }

  /** For the gateway: the machine a connect token names, or null. */
  findForConnect(name: string): MachineRecord | null {
    return this.repo.findByName(name);
  }

  update(name: string, request: UpdateMachineRequest): Machine {
    const updated = this.repo.transaction(() => {
      const machine = this.require(name);
      if (request.roles !== undefined) this.repo.setRoles(machine.id, [...new Set(request.roles)]);
      if (request.environments !== undefined) this.repo.setEnvironments(machine.id, this.environments.resolve(request.environments).map((e) => e.id));
      if (request.disabled !== undefined) this.repo.setDisabled(machine.id, request.disabled);
      return this.require(machine.name);
    });
    if (updated.disabled) this.connections.disconnect(updated.name, CLOSE_CODES.disabled, 'this machine has been disabled on the hub');
    this.log.info({ machine: updated.name, roles: updated.roles, environments: updated.environments, disabled: updated.disabled }, 'machine updated');
    return this.toMachine(updated);
  }

  /** Revokes: the record and its key are gone and a live connection closes at once. */
  remove(name: string): void {
    const machine = this.require(name);
    this.repo.transaction(() => this.repo.delete(machine.id));
    this.connections.disconnect(machine.name, CLOSE_CODES.revoked, 'this machine has been removed from the hub');
    this.log.info({ machine: machine.name }, 'machine removed');
  }

  recordHello(name: string, hello: { tentacleVersion: string; os: OsInfo; freeDiskBytes: number | null }): void {
    this.repo.recordHello(name, { ...hello, seenAt: this.clock().toISOString() });
  }

  recordDisconnect(name: string): void {
    this.repo.recordSeen(name, this.clock().toISOString());
  }

  async healthCheck(name: string): Promise<HealthCheckResult> {
    const machine = this.require(name);
    const session = this.connections.get(machine.name);
    if (!session) throw new CuttleError('machine-offline', `${machine.name} is not connected to the hub.`, { name: machine.name });
    const started = performance.now();
    const report = await session.healthCheck(HEALTH_CHECK_TIMEOUT_MS);
    const roundTripMs = Math.round((performance.now() - started) * 10) / 10;
    const checkedAt = this.clock().toISOString();
    this.repo.recordSeen(machine.name, checkedAt, report.freeDiskBytes);
    return { name: machine.name, healthy: true, roundTripMs, freeDiskBytes: report.freeDiskBytes, uptimeSeconds: report.uptimeSeconds, checkedAt };
  }

  /** The periodic sweep: health-checks every connected machine, logging the ones that fail. */
  async healthCheckAll(): Promise<void> {
    await Promise.all(
      this.connections.all().map((session) =>
        this.healthCheck(session.machineName).catch((error: unknown) => {
          this.log.warn({ machine: session.machineName, err: error }, 'periodic health check failed');
        }),
      ),
    );
  }

  private require(name: string): MachineRecord {
    const machine = this.repo.findByName(name);
    if (!machine) throw new CuttleError('machine-not-found', `No machine is named "${name}".`, { name });
    return machine;
  }

  private toMachine(record: MachineRecord): Machine {
    const online = this.connections.get(record.name) !== null;
    return {
      name: record.name,
      roles: record.roles,
      environments: record.environments,
      status: online ? 'online' : 'offline',
      disabled: record.disabled,
      registeredAt: record.registeredAt,
      lastSeenAt: online ? this.clock().toISOString() : record.lastSeenAt,
      tentacleVersion: record.tentacleVersion,
      os: record.os,
      freeDiskBytes: record.freeDiskBytes,
    };
  }
}
