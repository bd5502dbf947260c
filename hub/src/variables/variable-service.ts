import {
  CuttleError,
  SENSITIVE_MASK,
  type Release,
  type Variable,
  type VariablePreview,
  type VariableScope,
} from '@cuttle/shared';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { EnvironmentService } from '../environments/environment-service.js';
import type { MachineService } from '../machines/machine-service.js';
import type { ProjectRecord, ProjectRepository } from '../projects/project-repository.js';
import { assertFitsInJob } from './job-size.js';
import { resolveTarget, unresolvedMessage } from './resolution.js';
import type { SecretBox } from './secret-box.js';
import { checkVariables, type ScopeCatalog } from './variable-validation.js';
import { scopeKey, secretAad, type PlainVariable, type SourcedVariable, type StoredVariable } from './variable-model.js';
import type { SnapshotVariable, VariableRepository } from './variable-repository.js';
import { checkIfMatch, variablesEtag } from './variables-etag.js';

export interface VariableSetView {
  name: string;
  variables: Variable[];
  createdAt: string;
  updatedAt: string;
}

export interface PreviewQuery {
  environment: string;
  machine?: string | undefined;
  roles?: readonly string[] | undefined;
}

/** Placeholders of the built-ins that only a real deployment knows. */
export const PREVIEW_PLACEHOLDERS = {
  release: '(release)',
  machine: '(machine)',
  packageId: '(package)',
  packageVersion: '(package version)',
  deployment: '(deployment)',
} as const;

/** What the API shows of a stored variable: a sensitive value is never shown. */
export function maskedView(variable: StoredVariable): Variable {
  return {
    name: variable.name,
    value: variable.secret !== null ? SENSITIVE_MASK : (variable.value ?? ''),
    sensitive: variable.secret !== null,
    ...(variable.scope ? { scope: variable.scope } : {}),
  };
}

/** Project variables, variable sets, their validation, release snapshots and previews. */
export class VariableService {
  constructor(
    private readonly repo: VariableRepository,
    private readonly projects: ProjectRepository,
    private readonly environments: EnvironmentService,
    private readonly machines: MachineService,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  projectVariables(projectName: string): Variable[] {
    return this.repo.projectVariables(this.requireProject(projectName).id).map(maskedView);
  }

  /** The ETag of the project's stored list (it changes with every save that changes a row). */
  projectVariablesEtag(projectName: string): string {
    return variablesEtag(this.repo.projectVariables(this.requireProject(projectName).id));
  }

  /**
   * Replaces the project's whole list. A sensitive value sent as SENSITIVE_MASK keeps the stored
   * secret of the same name and scope. With `ifMatch`, refuses (`variables-changed`) unless the
   * stored list still has that ETag.
   */
  putProjectVariables(projectName: string, variables: readonly Variable[], ifMatch?: string): Variable[] {
    const saved = this.repo.transaction(() => {
      const project = this.requireProject(projectName);
      const existing = this.repo.projectVariables(project.id);
      checkIfMatch(ifMatch, variablesEtag(existing), `project ${project.name}`);
      const { stored, plain } = this.prepare(variables, existing);
      const sets = this.includedSets(project).flatMap((set) => this.repo.setVariables(set.id).map((v) => this.plain(v)));
      assertFitsInJob([...plain, ...sets], `project ${project.name}`);
      this.repo.replaceProjectVariables(project.id, stored);
      return { project: project.name, stored };
    });
    this.log.info({ project: saved.project, variables: saved.stored.length, sensitive: saved.stored.filter((v) => v.secret !== null).length }, 'project variables saved');
    return saved.stored.map(maskedView);
  }

  listSets(): Array<{ name: string; variableCount: number; updatedAt: string }> {
    return this.repo.listSets().map(({ name, variableCount, updatedAt }) => ({ name, variableCount, updatedAt }));
  }

  getSet(name: string): VariableSetView {
    const set = this.requireSet(name);
    return { name: set.name, variables: this.repo.setVariables(set.id).map(maskedView), createdAt: set.createdAt, updatedAt: set.updatedAt };
  }

  /** The ETag of the set's stored list; throws `variable-set-not-found`. */
  setEtag(name: string): string {
    return variablesEtag(this.repo.setVariables(this.requireSet(name).id));
  }

  /** Creates or replaces a set's list; `ifMatch` as for putProjectVariables (a set that does not exist matches no ETag). */
  putSet(name: string, variables: readonly Variable[], ifMatch?: string): { set: VariableSetView; created: boolean } {
    const result = this.repo.transaction(() => {
      const existing = this.repo.findSet(name);
      const before = existing ? this.repo.setVariables(existing.id) : [];
      checkIfMatch(ifMatch, existing ? variablesEtag(before) : null, `variable set ${existing?.name ?? name}`);
      const { stored, plain } = this.prepare(variables, before);
      assertFitsInJob(plain, `variable set ${existing?.name ?? name}`);
      // every project that includes the set must stay free of cycles with its new values, and fit in a job
      for (const project of this.projectsIncluding(existing?.name ?? name)) {
        const others = this.includedSets(project)
          .filter((s) => s.name.toLowerCase() !== name.toLowerCase())
          .flatMap((s) => this.repo.setVariables(s.id).map((v) => this.plain(v)));
        assertFitsInJob([...this.repo.projectVariables(project.id).map((v) => this.plain(v)), ...others, ...plain], `project ${project.name}`);
      }
      this.repo.saveSet(existing?.name ?? name, stored, this.clock().toISOString());
      return { created: existing === null, count: stored.length };
    });
    this.log.info({ variableSet: name, variables: result.count, created: result.created }, 'variable set saved');
    return { set: this.getSet(name), created: result.created };
  }

  deleteSet(name: string): void {
    this.repo.transaction(() => {
      const set = this.requireSet(name);
      const users = this.projectsIncluding(set.name).map((p) => p.name);
      if (users.length > 0) {
        throw new CuttleError('variable-set-in-use', `Variable set ${set.name} is included by ${users.join(', ')}; remove it from their variableSets first.`, {
          name: set.name,
          projects: users,
        });
      }
      this.repo.deleteSet(set.id);
    });
    this.log.info({ variableSet: name }, 'variable set deleted');
  }

  /**
   * The hub's spelling of each set name, without repeats; throws `variable-set-not-found`. With
   * the project's name, also checks that its variables and these sets' together have no cycle
   * and fit in a job (`variable-cycle`, `invalid-request`, `variables-too-large`).
   */
  checkVariableSets(names: readonly string[], projectName?: string): string[] {
    const out: string[] = [];
    for (const name of names) {
      const set = this.requireSet(name);
      if (!out.some((n) => n.toLowerCase() === set.name.toLowerCase())) out.push(set.name);
    }
    if (projectName !== undefined) {
      const project = this.projects.findByName(projectName);
      const own = project ? this.repo.projectVariables(project.id).map((v) => this.plain(v)) : [];
      const sets = out.flatMap((name) => this.repo.setVariables(this.requireSet(name).id).map((v) => this.plain(v)));
      assertFitsInJob([...own, ...sets], `project ${project?.name ?? projectName}`);
    }
    return out;
  }

  /** Stores the release's snapshot of the project's variables and its sets' (call inside the release's transaction). */
  snapshotRelease(projectId: number, releaseId: number, variableSets: readonly string[]): void {
    const entries: SnapshotVariable[] = this.repo.projectVariables(projectId).map((v) => ({ ...v, source: 0, setName: null }));
    variableSets.forEach((setName, index) => {
      const set = this.repo.findSet(setName);
      if (set) entries.push(...this.repo.setVariables(set.id).map((v) => ({ ...v, source: index + 1, setName: set.name })));
    });
    // what was saved before these checks existed (or a set changed since) must not reach deployments
    assertFitsInJob(entries.map((v) => this.plain(v)), 'the release');
    this.repo.saveSnapshot(releaseId, entries, this.clock().toISOString());
  }

  /** Takes the release's snapshot again from the variables as they are now. */
  refreshSnapshot(projectName: string, version: string): Release {
    const release = this.repo.transaction(() => {
      const project = this.requireProject(projectName);
      const releaseId = this.repo.releaseId(project.id, version);
      const found = releaseId === null ? null : this.projects.findRelease(project.id, version);
      if (releaseId === null || found === null) throw new CuttleError('release-not-found', `${project.name} has no release ${version}.`, { project: project.name, version });
      this.snapshotRelease(project.id, releaseId, project.definition.variableSets ?? []);
      return found;
    });
    this.log.info({ project: release.project, release: release.version }, 'release variable snapshot refreshed');
    return release;
  }

  /** Every value a release's deployments use, in the clear, with its source; empty for a release made before variables existed. */
  releaseValues(projectName: string, version: string): SourcedVariable[] {
    const project = this.requireProject(projectName);
    const releaseId = this.repo.releaseId(project.id, version);
    const snapshot = releaseId === null ? null : this.repo.snapshot(releaseId);
    return (snapshot?.variables ?? []).map((v) => ({ ...this.plain(v), source: v.source, set: v.setName }));
  }

  /** preview, with a message for each reference left as it is because its name has no value for the target. */
  previewWithWarnings(projectName: string, query: PreviewQuery): { preview: VariablePreview; warnings: string[] } {
    const project = this.requireProject(projectName);
    const environment = this.environments.get(query.environment);
    let machineName: string | null = null;
    let roles = [...new Set(query.roles ?? [])];
    if (query.machine !== undefined) {
      const machine = this.machines.get(query.machine);
      if (!machine.environments.some((e) => e.toLowerCase() === environment.name.toLowerCase())) {
        throw new CuttleError('machine-not-in-environment', `"${machine.name}" is not a machine of environment ${environment.name}.`, {
          environment: environment.name,
          machines: [machine.name],
        });
      }
      machineName = machine.name;
      roles = machine.roles;
    }
    const values: SourcedVariable[] = this.repo.projectVariables(project.id).map((v) => ({ ...this.plain(v), source: 0, set: null }));
    this.includedSets(project).forEach((set, index) => values.push(...this.repo.setVariables(set.id).map((v) => ({ ...this.plain(v), source: index + 1, set: set.name }))));
    const resolved = resolveTarget(
      values,
      { environment: environment.name, machine: machineName, roles },
      {
        'Cuttle.Project.Name': project.name,
        'Cuttle.Release.Number': PREVIEW_PLACEHOLDERS.release,
        'Cuttle.Environment.Name': environment.name,
        'Cuttle.Machine.Name': machineName ?? PREVIEW_PLACEHOLDERS.machine,
        'Cuttle.Machine.Roles': roles.join(','),
        'Cuttle.Package.Id': PREVIEW_PLACEHOLDERS.packageId,
        'Cuttle.Package.Version': PREVIEW_PLACEHOLDERS.packageVersion,
        'Cuttle.Deployment.Id': PREVIEW_PLACEHOLDERS.deployment,
      },
    );
    const preview: VariablePreview = {
      project: project.name,
      environment: environment.name,
      machine: machineName,
      roles,
      variables: resolved.variables.map((v) => (v.sensitive ? { ...v, value: SENSITIVE_MASK } : v)),
    };
    return { preview, warnings: resolved.unresolved.map(unresolvedMessage) };
  }

  /** Checks the list and seals its sensitive values; returns what to store and the values in the clear (for the cycle check). */
  private prepare(variables: readonly Variable[], existing: readonly StoredVariable[]): { stored: StoredVariable[]; plain: PlainVariable[] } {
    const checked = checkVariables(variables, this.catalog(), existing);
    const stored: StoredVariable[] = [];
    const plain: PlainVariable[] = [];
    checked.forEach((variable, index) => {
      const scope: VariableScope | null = variable.scope;
      if (!variable.sensitive) {
        stored.push({ name: variable.name, value: variable.value, secret: null, scope });
        plain.push({ name: variable.name, value: variable.value, sensitive: false, scope });
        return;
      }
      if (variable.value === SENSITIVE_MASK) {
        const key = scopeKey(scope);
        const kept = existing.find((e) => e.secret !== null && e.name === variable.name && scopeKey(e.scope) === key);
        if (!kept) {
          throw new CuttleError(
            'invalid-request',
            `Variable ${variable.name} (index ${index}) sends the mask ${SENSITIVE_MASK} as its value, but no stored secret has that name and scope to keep; send the real value.`,
            { fields: [{ field: `variables.${index}.value`, message: 'the mask stands for a stored secret, and there is none with this name and scope' }], index, name: variable.name },
          );
        }
        // the same name and scope give the same authenticated data, so the sealed value is kept as it is
        stored.push({ name: variable.name, value: null, secret: kept.secret, scope });
        plain.push({ name: variable.name, value: this.box.open(kept.secret!, secretAad(kept.name, kept.scope)), sensitive: true, scope });
        return;
      }
      stored.push({ name: variable.name, value: null, secret: this.box.seal(variable.value, secretAad(variable.name, scope)), scope });
      plain.push({ name: variable.name, value: variable.value, sensitive: true, scope });
    });
    return { stored, plain };
  }

  private plain(variable: StoredVariable): PlainVariable {
    const sensitive = variable.secret !== null;
    return {
      name: variable.name,
      value: sensitive ? this.box.open(variable.secret!, secretAad(variable.name, variable.scope)) : (variable.value ?? ''),
      sensitive,
      scope: variable.scope,
    };
  }

  private catalog(): ScopeCatalog {
    const machines = this.machines.list().map((m) => ({ name: m.name, roles: m.roles, environments: m.environments }));
    const roles = new Map<string, string>();
    for (const m of machines) for (const role of m.roles) roles.set(role.toLowerCase(), role);
    for (const p of this.projects.list()) for (const step of p.definition.steps) for (const role of step.roles) roles.set(role.toLowerCase(), role);
    return { environments: this.environments.list().map((e) => e.name), machines, roles: [...roles.values()] };
  }

  private includedSets(project: ProjectRecord) {
    return (project.definition.variableSets ?? []).flatMap((name) => {
      const set = this.repo.findSet(name);
      return set ? [set] : [];
    });
  }

  private projectsIncluding(setName: string): ProjectRecord[] {
    return this.projects.list().filter((p) => (p.definition.variableSets ?? []).some((n) => n.toLowerCase() === setName.toLowerCase()));
  }

  private requireProject(name: string): ProjectRecord {
    const project = this.projects.findByName(name);
    if (!project) throw new CuttleError('project-not-found', `No project is named "${name}".`, { name });
    return project;
  }

  private requireSet(name: string) {
    const set = this.repo.findSet(name);
    if (!set) throw new CuttleError('variable-set-not-found', `No variable set is named "${name}".`, { name });
    return set;
  }
}
