import {
  CuttleError,
  DEFAULT_RETAIN_RELEASES,
  DEFAULT_SCRIPT_TIMEOUT_SECONDS,
  DEFAULT_STEP_PARALLELISM,
  type Job,
  type Release,
  type Step,
} from '@cuttle/shared';
import type { JobBuiltIns, TaskVariables } from './task-variables.js';

/** A machine of a deployment and the steps of the release that run on it, in process order. */
export interface TargetPlan {
  machine: string;
  steps: string[];
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The machines that at least one step runs on (a role in common), in the order given. */
export function planTargets(steps: readonly Step[], machines: ReadonlyArray<{ name: string; roles: readonly string[] }>): TargetPlan[] {
  return machines
    .map((machine) => ({
      machine: machine.name,
      steps: steps.filter((step) => step.roles.some((role) => machine.roles.some((own) => sameName(own, role)))).map((step) => step.name),
    }))
    .filter((plan) => plan.steps.length > 0);
}

export function stepParallelism(step: Step): number {
  return step.type === 'deploy-package' ? (step.parallelism ?? DEFAULT_STEP_PARALLELISM) : DEFAULT_STEP_PARALLELISM;
}

/**
 * The app folder a deploy-package step installs into: null (the project's main app) for the first
 * deploy-package step, a folder-safe form of the step's name for later ones. Step names may hold
 * any character; slots are folder names, so other characters become "-", a name of only dots
 * cannot name a parent folder, and two names that map to one folder get the step number added.
 */
export function slotOf(steps: readonly Step[], stepIndex: number): string | null {
  if (!steps[stepIndex]) throw new Error(`no step ${stepIndex}`);
  const used = new Set<string>();
  let first = true;
  for (const [index, step] of steps.entries()) {
    if (step.type !== 'deploy-package' && index !== stepIndex) continue;
    if (first && step.type === 'deploy-package') {
      first = false;
      if (index === stepIndex) return null;
      continue;
    }
    let slot = step.name.replace(/[^A-Za-z0-9._-]/g, '-');
    if (/^\.+$/.test(slot)) slot = slot.replace(/\./g, '_');
    if (used.has(slot.toLowerCase())) slot = `${slot.slice(0, 90)}-${index + 1}`;
    if (index === stepIndex) return slot;
    used.add(slot.toLowerCase());
  }
  return null;
}

export interface JobContext {
  deploymentId: number;
  taskId: number;
  project: string;
  release: string;
  environment: string;
  machine: string;
}

/** The built-ins a job knows itself (Cuttle.Machine.Roles comes with the machine's variables). */
export function jobBuiltIns(context: JobContext, pkg: { id: string; version: string } | null): JobBuiltIns {
  return {
    'Cuttle.Project.Name': context.project,
    'Cuttle.Release.Number': context.release,
    'Cuttle.Environment.Name': context.environment,
    'Cuttle.Machine.Name': context.machine,
    ...(pkg ? { 'Cuttle.Package.Id': pkg.id, 'Cuttle.Package.Version': pkg.version } : {}),
    'Cuttle.Deployment.Id': String(context.deploymentId),
  };
}

/**
 * The job that runs step `stepIndex` of a release on one machine. With `variables`, the job
 * carries the machine's resolved variables (and a deploy-package job the step's substitution
 * settings); resolving them may throw a CuttleError (ambiguous-variable, variable-cycle).
 */
export function buildJob(context: JobContext, steps: readonly Step[], stepIndex: number, packages: Release['packages'], variables?: TaskVariables): Job {
  const step = steps[stepIndex];
  if (!step) throw new Error(`no step ${stepIndex}`);
  const common = { ...context, step: step.name };
  if (step.type === 'run-script') {
    return {
      kind: 'run-script',
      ...common,
      script: step.script,
      timeoutSeconds: step.timeoutSeconds ?? DEFAULT_SCRIPT_TIMEOUT_SECONDS,
      ...(variables ? { variables: variables.resolve(context.machine, jobBuiltIns(context, null)) } : {}),
    };
  }
  const pkg = packages.find((p) => sameName(p.id, step.package));
  if (!pkg) {
    // a release snapshots a version of every package its steps deploy, so this is a damaged record
    throw new CuttleError('unknown-package', `Release ${context.release} has no version of package ${step.package} for step "${step.name}".`, {
      package: step.package,
    });
  }
  return {
    kind: 'deploy-package',
    ...common,
    app: { project: context.project, environment: context.environment, slot: slotOf(steps, stepIndex) },
    package: { id: pkg.id, version: pkg.version, sha256: pkg.sha256, size: pkg.size },
    installDir: step.installDir ?? null,
    retain: step.retain ?? DEFAULT_RETAIN_RELEASES,
    scriptTimeoutSeconds: step.timeoutSeconds ?? DEFAULT_SCRIPT_TIMEOUT_SECONDS,
    ...(variables
      ? {
          variables: variables.resolve(context.machine, jobBuiltIns(context, pkg)),
          environments: [...variables.environments],
        }
      : {}),
    ...(step.substituteIn ? { substituteIn: step.substituteIn } : {}),
    ...(step.structuredVariables ? { structuredVariables: step.structuredVariables } : {}),
  };
}
