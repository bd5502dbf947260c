import semver from 'semver';
import {
  CuttleError,
  compareVersions,
  isValidSemVer,
  type CreateReleaseRequest,
  type PackageInfo,
  type Project,
  type ProjectDefinition,
  type Release,
} from '@cuttle/shared';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ProjectRecord, ProjectRepository } from './project-repository.js';

/** What the project service needs to know about packages. */
export interface PackageCatalog {
  list(id: string): PackageInfo[];
}

/** What projects need of variables: checking the sets a definition includes, and release snapshots. */
export interface ProjectVariableHooks {
  /**
   * The hub's spelling of each named variable set, without repeats; throws `variable-set-not-found`,
   * and a CuttleError when the project's variables and these sets' together could not be deployed
   * (a reference cycle, a value too long, too large for a job).
   */
  checkVariableSets(names: readonly string[], projectName: string): string[];
  /** Stores the release's snapshot of the project's variables and its sets' (runs inside the release's transaction). */
  snapshotRelease(projectId: number, releaseId: number, variableSets: readonly string[]): void;
}

const toProject = (record: ProjectRecord): Project => ({ name: record.name, ...record.definition, createdAt: record.createdAt, updatedAt: record.updatedAt });

export class ProjectService {
  constructor(
    private readonly repo: ProjectRepository,
    private readonly packages: PackageCatalog,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly variables?: ProjectVariableHooks,
  ) {}

  list(): Project[] {
    return this.repo.list().map(toProject);
  }

  get(name: string): Project {
    return toProject(this.require(name));
  }

  /** Creates or replaces the whole definition. Returns whether it was created. */
  put(name: string, given: ProjectDefinition): { project: Project; created: boolean } {
    const now = this.clock().toISOString();
    // included variable sets must exist; they are kept in the hub's spelling
    const definition = given.variableSets !== undefined && this.variables ? { ...given, variableSets: this.variables.checkVariableSets(given.variableSets, name) } : given;
    const created = this.repo.transaction(() => {
      const existing = this.repo.findByName(name);
      if (existing) this.repo.update(existing.id, definition, now);
      else this.repo.insert(name, definition, now);
      return existing === null;
    });
    this.log.info({ project: name, steps: definition.steps.length, created }, 'project saved');
    return { project: this.get(name), created };
  }

  remove(name: string): void {
    const project = this.require(name);
    this.repo.transaction(() => this.repo.delete(project.id));
    this.log.info({ project: project.name }, 'project deleted');
  }

  listReleases(projectName: string): Release[] {
    return this.repo.listReleases(this.require(projectName).id);
  }

  getRelease(projectName: string, version: string): Release {
    const project = this.require(projectName);
    const release = this.repo.findRelease(project.id, version);
    if (!release) throw new CuttleError('release-not-found', `${project.name} has no release ${version}.`, { project: project.name, version });
    return release;
  }

  /**
   * Snapshots the deployment process and one version of every package its steps deploy:
   * the version asked for, or the newest. The release version defaults to the next patch.
   */
  createRelease(projectName: string, request: CreateReleaseRequest, createdBy: string | null): Release {
    const release = this.repo.transaction(() => {
      const project = this.require(projectName);
      const existing = this.repo.releaseVersions(project.id);
      const version = request.version ?? nextPatch(existing);
      if (!isValidSemVer(version)) {
        throw new CuttleError('invalid-version', `"${version}" is not a valid SemVer 2 release version.`, { fields: [{ field: 'version', message: 'not SemVer 2' }] });
      }
      if (existing.includes(version)) throw new CuttleError('release-exists', `${project.name} already has a release ${version}.`, { project: project.name, version });

      const used = usedPackageIds(project.definition);
      const asked = Object.entries(request.packages ?? {});
      const unused = asked.map(([id]) => id).filter((id) => !used.some((u) => u.toLowerCase() === id.toLowerCase()));
      if (unused.length > 0) {
        throw new CuttleError('unknown-package', `The project's steps deploy no package ${unused.join(', ')}.`, { packages: unused });
      }
      const packages = used.map((id) => {
        const wanted = asked.find(([askedId]) => askedId.toLowerCase() === id.toLowerCase())?.[1];
        const versions = this.packages.list(id);
        const chosen = wanted === undefined ? versions.sort((a, b) => compareVersions(b.version, a.version))[0] : versions.find((p) => p.version === wanted);
        if (!chosen) {
          throw new CuttleError(
            'unknown-package',
            wanted === undefined ? `There is no package ${id} on the hub yet; push one first.` : `There is no package ${id} ${wanted} on the hub.`,
            { package: id, version: wanted ?? null },
          );
        }
        return { id: chosen.id, version: chosen.version, sha256: chosen.sha256, size: chosen.size };
      });
      const created: Release = {
        project: project.name,
        version,
        notes: request.notes ?? null,
        createdAt: this.clock().toISOString(),
        createdBy,
        steps: project.definition.steps,
        packages,
      };
      const releaseId = this.repo.insertRelease(project.id, created);
      this.variables?.snapshotRelease(project.id, releaseId, project.definition.variableSets ?? []);
      return created;
    });
    this.log.info({ project: release.project, release: release.version, packages: release.packages.map((p) => `${p.id}@${p.version}`) }, 'release created');
    return release;
  }

  private require(name: string): ProjectRecord {
    const project = this.repo.findByName(name);
    if (!project) throw new CuttleError('project-not-found', `No project is named "${name}".`, { name });
    return project;
  }
}

function usedPackageIds(definition: ProjectDefinition): string[] {
  const ids: string[] = [];
  for (const step of definition.steps) {
    if (step.type === 'deploy-package' && !ids.some((id) => id.toLowerCase() === step.package.toLowerCase())) ids.push(step.package);
  }
  return ids;
}

/** The next patch after the highest release (0.0.1 for the first). */
export function nextPatch(versions: string[]): string {
  const highest = versions.filter((v) => semver.valid(v)).sort(compareVersions).at(-1);
  return highest ? (semver.inc(highest, 'patch') ?? '0.0.1') : '0.0.1';
}
