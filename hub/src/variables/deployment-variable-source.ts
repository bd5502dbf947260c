import { isCuttleError, type JobVariable } from '@cuttle/shared';
import type { DeploymentVariables, JobBuiltIns, TaskVariables } from '../deployments/task-variables.js';
import type { EnvironmentService } from '../environments/environment-service.js';
import type { MachineService } from '../machines/machine-service.js';
import { resolveTarget, unresolvedMessage, type BuiltIns } from './resolution.js';
import type { VariableService } from './variable-service.js';

/**
 * Gives the task runner each target's variables from the release's snapshot (so a redeploy or a
 * rollback uses the values the release was made with), matched against the machine's roles now.
 */
export class DeploymentVariableSource implements DeploymentVariables {
  constructor(
    private readonly variables: VariableService,
    private readonly environments: EnvironmentService,
    private readonly machines: MachineService,
  ) {}

  forTask(project: string, release: string, environment: string): TaskVariables {
    const values = this.variables.releaseValues(project, release);
    const machines = this.machines;
    const warnings = new Map<string, string[]>();
    return {
      secrets: values.filter((v) => v.sensitive).map((v) => v.value),
      environments: this.environments.list().map((e) => e.name),
      resolve(machine: string, builtIns: JobBuiltIns): JobVariable[] {
        let roles: string[] = [];
        try {
          roles = machines.get(machine).roles;
        } catch (error) {
          if (!isCuttleError(error)) throw error; // a machine removed meanwhile matches no role scope
        }
        const all: BuiltIns = { ...(builtIns as BuiltIns), 'Cuttle.Machine.Roles': roles.join(',') };
        const resolved = resolveTarget(values, { environment, machine, roles }, all);
        warnings.set(machine, resolved.unresolved.map(unresolvedMessage));
        return resolved.variables.map((v) => ({ name: v.name, value: v.value, sensitive: v.sensitive }));
      },
      warnings: (machine) => warnings.get(machine) ?? [],
    };
  }
}
