import type { Step } from '@cuttle/shared';

/** A target that failed a step, for the task's summary error. */
export interface TargetFailure {
  machine: string;
  code: string;
  message: string;
}

/** Failures listed one by one in a task's error before the rest are counted. */
const LISTED_FAILURES = 10;

/** `"Deploy web" (deploy-package Acme.Web 1.4.0)` or `"Migrate" (run-script)`. */
export function describeStep(step: Step, release: { packages: ReadonlyArray<{ id: string; version: string }> }): string {
  if (step.type === 'run-script') return `"${step.name}" (run-script)`;
  const pkg = release.packages.find((p) => p.id.toLowerCase() === step.package.toLowerCase());
  return `"${step.name}" (deploy-package ${pkg ? `${pkg.id} ${pkg.version}` : step.package})`;
}

/** `2 of 3 targets failed in step Deploy web: web-1 script-failed: Deploy.sh exited with 1; web-2 ...` */
export function failureSummary(stepName: string, targetsInStep: number, failures: readonly TargetFailure[]): string {
  const listed = failures.slice(0, LISTED_FAILURES).map((f) => `${f.machine} ${f.code}: ${f.message}`);
  const more = failures.length > LISTED_FAILURES ? `; and ${failures.length - LISTED_FAILURES} more` : '';
  const noun = targetsInStep === 1 ? 'target' : 'targets';
  return `${failures.length} of ${targetsInStep} ${noun} failed in step ${stepName}: ${listed.join('; ')}${more}`;
}
