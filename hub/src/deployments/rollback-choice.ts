import type { TaskState } from '@cuttle/shared';

/** One deployment of a project to an environment, as the rollback choice sees it. */
export interface DeploymentOutcome {
  id: number;
  release: string;
  rollbackFrom: string | null;
  state: TaskState;
  /** how many of its targets succeeded (a partly failed deployment changed those machines) */
  succeededTargets: number;
}

export interface RollbackChoice {
  /** the environment's current release, or null when no deployment ever changed a machine */
  current: string | null;
  /** the release to deploy again, or null when there is none */
  target: string | null;
}

/**
 * Picks what a rollback deploys, from the project's deployments to the environment (any order).
 * The current release is that of the newest deployment in which at least one target succeeded
 * (a deployment that failed everywhere changed nothing). The rollback target is the newest
 * release that differs from it, was deployed fully successfully before that deployment, and that
 * no later effective rollback rolled away from (so a second rollback goes further back, never
 * forward again). Environment-wide: a rollback limited to some machines chooses the same way.
 */
export function chooseRollback(deployments: readonly DeploymentOutcome[]): RollbackChoice {
  const newestFirst = [...deployments].sort((a, b) => b.id - a.id);
  const current = newestFirst.find((d) => d.succeededTargets > 0);
  if (!current) return { current: null, target: null };
  // release -> ids of the rollbacks that actually moved machines away from it
  const rolledAway = new Map<string, number[]>();
  for (const d of newestFirst) {
    if (d.rollbackFrom === null || d.succeededTargets === 0) continue;
    const ids = rolledAway.get(d.rollbackFrom) ?? [];
    ids.push(d.id);
    rolledAway.set(d.rollbackFrom, ids);
  }
  const target = newestFirst.find(
    (d) =>
      d.id < current.id &&
      d.state === 'success' &&
      d.release !== current.release &&
      !(rolledAway.get(d.release) ?? []).some((rollbackId) => rollbackId > d.id),
  );
  return { current: current.release, target: target?.release ?? null };
}
