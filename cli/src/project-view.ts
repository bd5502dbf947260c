import type { Project, Release, Step } from '@cuttle/shared';
import { formatBytes, formatNames, formatTimestamp, renderFields, shortSha } from './output.js';

/** How projects, steps and releases read on a terminal (`project show`, `release show`). */

/** "1 step", "3 steps". */
export function countSteps(count: number): string {
  return `${count} step${count === 1 ? '' : 's'}`;
}

/** `Acme.Web 1.4.0, Acme.Db 2.0.0`, or "no packages". */
export function formatReleasePackages(packages: Release['packages']): string {
  return packages.length === 0 ? 'no packages' : packages.map((pkg) => `${pkg.id} ${pkg.version}`).join(', ');
}

/** The package ids the project's deploy-package steps deploy, in step order, each once. */
export function deployedPackages(steps: readonly Step[]): string[] {
  const ids: string[] = [];
  for (const step of steps) if (step.type === 'deploy-package' && !ids.includes(step.package)) ids.push(step.package);
  return ids;
}

function describeStep(step: Step): string {
  if (step.type === 'deploy-package') {
    const extras = [
      step.installDir === undefined ? undefined : `install dir ${step.installDir}`,
      step.parallelism === undefined ? undefined : `parallelism ${step.parallelism}`,
      step.retain === undefined ? undefined : `retain ${step.retain}`,
    ].filter((part) => part !== undefined);
    return [`${step.name} (deploy-package): ${step.package} on ${formatNames(step.roles)}`, ...extras].join('; ');
  }
  const timeout = step.timeoutSeconds === undefined ? [] : [`timeout ${step.timeoutSeconds} s`];
  return [`${step.name} (run-script) on ${formatNames(step.roles)}`, ...timeout].join('; ');
}

/**
 * The deployment process as a numbered list; a run-script step's script follows its line,
 * indented: `  1. Deploy web (deploy-package): Acme.Web on web-server; retain 3`.
 */
export function renderSteps(steps: readonly Step[]): string[] {
  const width = String(steps.length).length;
  const lines: string[] = [];
  steps.forEach((step, index) => {
    const number = `${String(index + 1).padStart(width)}. `;
    lines.push(`  ${number}${describeStep(step)}`);
    if (step.type === 'run-script') {
      const indent = ' '.repeat(2 + number.length + 2);
      for (const line of step.script.replace(/\n$/, '').split('\n')) lines.push(`${indent}${line}`.trimEnd());
    }
  });
  return lines;
}

/** Every field of a project, then its steps. */
export function renderProject(project: Project): string {
  const fields = renderFields([
    ['name', project.name],
    ['description', project.description === undefined || project.description === '' ? '-' : project.description],
    ['variable sets', formatNames(project.variableSets ?? [])],
    ['created', formatTimestamp(project.createdAt)],
    ['updated', formatTimestamp(project.updatedAt)],
  ]);
  return [fields, `steps (${project.steps.length}):`, ...renderSteps(project.steps)].join('\n');
}

/** Every field of a release, its packages (with size and SHA-256 prefix) and the process it snapshotted. */
export function renderRelease(release: Release): string {
  const notes = release.notes ?? '';
  const multiline = notes.includes('\n');
  const fields = renderFields([
    ['project', release.project],
    ['version', release.version],
    ['created', formatTimestamp(release.createdAt)],
    ['by', release.createdBy ?? '-'],
    ['notes', notes === '' ? '-' : multiline ? '' : notes],
  ]);
  const noteLines = multiline ? notes.split('\n').map((line) => `  ${line}`.trimEnd()) : [];
  const packageLines =
    release.packages.length === 0
      ? ['  (none)']
      : release.packages.map((pkg) => `  ${pkg.id} ${pkg.version}  ${formatBytes(pkg.size)}  sha256 ${shortSha(pkg.sha256)}`);
  return [fields, ...noteLines, 'packages:', ...packageLines, `steps (${release.steps.length}):`, ...renderSteps(release.steps)].join('\n');
}

/** The first line of release notes, shortened for a table column. */
export function notesSummary(notes: string | null, max = 50): string {
  const lines = (notes ?? '').trim().split('\n');
  const first = lines[0]?.trim() ?? '';
  if (first === '') return '-';
  if (first.length > max) return `${first.slice(0, max - 1)}…`;
  return lines.length > 1 ? `${first} …` : first;
}
