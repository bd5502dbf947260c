import type { JobVariable } from '@cuttle/shared';

/** The built-in variables of one job, by name (`Cuttle.Project.Name`, ...). */
export type JobBuiltIns = Record<string, string>;

/** A task's variables: the release's snapshot, ready to resolve for each of its targets. */
export interface TaskVariables {
  /** every sensitive value the task's jobs may carry, in the clear: the task log masks them */
  readonly secrets: readonly string[];
  /** every environment's name (the tentacle removes the transform files of all of them) */
  readonly environments: readonly string[];
  /**
   * The machine's variables for one job, built-ins included (Cuttle.Machine.Roles is added here,
   * from the machine's roles) and references expanded. Throws a
   * CuttleError (ambiguous-variable, variable-cycle, invalid-request for a value that grows too
   * long) when they cannot be resolved for it.
   */
  resolve(machine: string, builtIns: JobBuiltIns): JobVariable[];
  /** What the machine's resolved variables left as it is (a `#{Name}` with no value for it), one message each, for the task log. */
  warnings(machine: string): readonly string[];
}

/** Where the task runner gets the variables of a deployment's release. */
export interface DeploymentVariables {
  /** Loads (and decrypts) the release's snapshot once per task run. */
  forTask(project: string, release: string, environment: string): TaskVariables;
}
