import { CuttleError, type CreateEnvironmentRequest, type Environment, type UpdateEnvironmentRequest } from '@cuttle/shared';
import type { Clock } from '../clock.js';
import type { EnvironmentRecord, EnvironmentRepository } from './environment-repository.js';

const toEnvironment = ({ name, description, position, createdAt }: EnvironmentRecord): Environment => ({ name, description, position, createdAt });

export class EnvironmentService {
  constructor(
    private readonly repo: EnvironmentRepository,
    private readonly clock: Clock,
  ) {}

  list(): Environment[] {
    return this.repo.list().map(toEnvironment);
  }

  get(name: string): Environment {
    return toEnvironment(this.require(name));
  }

  create(request: CreateEnvironmentRequest): Environment {
    return this.repo.transaction(() => {
      const created = this.repo.insert(request.name, request.description ?? '', this.clock().toISOString());
      if (!created) throw new CuttleError('environment-exists', `An environment named "${request.name}" already exists.`, { name: request.name });
      if (request.position !== undefined) this.move(created.id, request.position);
      return this.get(created.name);
    });
  }

  update(name: string, request: UpdateEnvironmentRequest): Environment {
    return this.repo.transaction(() => {
      const current = this.require(name);
      if (request.name !== undefined && request.name.toLowerCase() !== current.name.toLowerCase() && this.repo.findByName(request.name)) {
        throw new CuttleError('environment-exists', `An environment named "${request.name}" already exists.`, { name: request.name });
      }
      // scopes compare names case-insensitively: only a real rename would leave them naming nothing
      if (request.name !== undefined && request.name.toLowerCase() !== current.name.toLowerCase()) this.refuseIfVariablesName(current.name, 'renamed');
      if (request.name !== undefined && request.name !== current.name) {
        // even a change of case: tentacles on case-sensitive disks would install into a new folder
        const deployments = this.repo.deploymentCount(current.name);
        if (deployments > 0) {
          throw new CuttleError(
            'environment-in-use',
            `Environment "${current.name}" cannot be renamed: ${deployments} deployment(s) refer to it by name, and the tentacles' install folders (apps/<project>/${current.name}) use the name. Create a new environment instead.`,
            { name: current.name, deployments },
          );
        }
      }
      this.repo.update(current.id, { name: request.name, description: request.description });
      if (request.position !== undefined) this.move(current.id, request.position);
      return this.get(request.name ?? current.name);
    });
  }

  remove(name: string): void {
    this.repo.transaction(() => {
      const current = this.require(name);
      const machines = this.repo.machineCount(current.id);
      if (machines > 0) {
        throw new CuttleError('environment-in-use', `${machines} machine(s) are in environment "${current.name}"; move or remove them first.`, {
          name: current.name,
          machines,
        });
      }
      this.refuseIfVariablesName(current.name, 'removed');
      this.repo.delete(current.id);
      this.repo.reorder(this.repo.list().map((e) => e.id));
    });
  }

  /** Resolves names (case-insensitively) to records; unknown names are one error naming them all. */
  resolve(names: string[]): EnvironmentRecord[] {
    const found = names.map((name) => ({ name, record: this.repo.findByName(name) }));
    const unknown = found.filter((f) => !f.record).map((f) => f.name);
    if (unknown.length > 0) {
      throw new CuttleError('unknown-environment', `No environment is named ${unknown.map((n) => `"${n}"`).join(', ')}; create it first (cuttle env create).`, {
        environments: unknown,
      });
    }
    const records = found.map((f) => f.record as EnvironmentRecord);
    return records.filter((r, i) => records.findIndex((o) => o.id === r.id) === i);
  }

  /**
   * Variables scoped to the environment name it; renamed or removed, their values would silently
   * stop matching (a value for the environment falling back to an unscoped one).
   */
  private refuseIfVariablesName(name: string, what: 'renamed' | 'removed'): void {
    const users = this.repo.variableUsers(name);
    const parts = [
      users.projects.length > 0 ? `the variables of project(s) ${users.projects.join(', ')}` : null,
      users.variableSets.length > 0 ? `variable set(s) ${users.variableSets.join(', ')}` : null,
      users.releases.length > 0 ? `the variable snapshots of release(s) ${users.releases.join(', ')}` : null,
    ].filter((p) => p !== null);
    if (parts.length === 0) return;
    throw new CuttleError(
      'environment-in-use',
      `Environment "${name}" cannot be ${what}: ${parts.join('; ')} are scoped to it. Remove it from those scopes first (a release's snapshot changes with snapshot-variables).`,
      { name, ...users },
    );
  }

  private require(name: string): EnvironmentRecord {
    const record = this.repo.findByName(name);
    if (!record) throw new CuttleError('environment-not-found', `No environment is named "${name}".`, { name });
    return record;
  }

  private move(id: number, position: number): void {
    const ids = this.repo.list().map((e) => e.id).filter((other) => other !== id);
    ids.splice(Math.min(position, ids.length), 0, id);
    this.repo.reorder(ids);
  }
}
