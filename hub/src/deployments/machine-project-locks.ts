/** The task (and its deployment) that holds or waits for locks. */
export interface LockOwner {
  taskId: number;
  deploymentId: number;
}

/** What keeps a waiting task from starting: a task holding some of its machines, or one queued before it. */
export interface LockBlocker {
  owner: LockOwner;
  machines: string[];
  /** true when it holds the locks; false when it waits too, ahead of this one */
  holds: boolean;
}

interface Pending {
  owner: LockOwner;
  keys: Map<string, string>; // key -> machine name as given
  settle: (acquired: boolean) => void;
  onBlocked: (blockers: LockBlocker[]) => void;
  lastBlockers: string;
}

const keyOf = (machine: string, project: string) => `${machine.toLowerCase()}\n${project.toLowerCase()}`;

/**
 * One deployment at a time per machine and project. A task takes all of its (machine, project)
 * locks at once or none, so two tasks can never each hold what the other waits for; waiters are
 * served first come, first served among those that want the same locks, so none starves, and
 * a task whose machines are free does not wait behind one whose machines are busy.
 */
export class MachineProjectLocks {
  private readonly held = new Map<string, LockOwner>();
  private readonly queue: Pending[] = [];

  /**
   * Resolves true once every lock is held by `owner`, or false if `signal` aborts first.
   * `onBlocked` is called (synchronously) when the task has to wait and whenever what it waits for changes.
   */
  acquire(owner: LockOwner, project: string, machines: readonly string[], signal: AbortSignal, onBlocked: (blockers: LockBlocker[]) => void): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const pending: Pending = {
        owner,
        keys: new Map(machines.map((machine) => [keyOf(machine, project), machine])),
        settle: (acquired) => {
          signal.removeEventListener('abort', onAbort);
          resolve(acquired);
        },
        onBlocked,
        lastBlockers: '',
      };
      const onAbort = () => {
        const index = this.queue.indexOf(pending);
        if (index === -1) return;
        this.queue.splice(index, 1);
        pending.settle(false);
        this.pump();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(pending);
      this.pump();
    });
  }

  /** Frees every lock the task holds and lets the waiters that can go, go. */
  release(owner: LockOwner): void {
    for (const [key, holder] of this.held) if (holder.taskId === owner.taskId) this.held.delete(key);
    this.pump();
  }

  /** Whether any lock is held or wanted (for tests and shutdown). */
  get busy(): boolean {
    return this.held.size > 0 || this.queue.length > 0;
  }

  private pump(): void {
    const wantedAhead = new Map<string, LockOwner>();
    const stillWaiting: Pending[] = [];
    for (const pending of [...this.queue]) {
      const free = [...pending.keys.keys()].every((key) => !this.held.has(key) && !wantedAhead.has(key));
      if (free) {
        for (const key of pending.keys.keys()) this.held.set(key, pending.owner);
        this.queue.splice(this.queue.indexOf(pending), 1);
        pending.settle(true);
        continue;
      }
      stillWaiting.push(pending);
      for (const key of pending.keys.keys()) if (!wantedAhead.has(key)) wantedAhead.set(key, pending.owner);
    }
    for (const pending of stillWaiting) this.reportBlockers(pending);
  }

  private reportBlockers(pending: Pending): void {
    const byTask = new Map<number, LockBlocker>();
    const queued = this.queue.slice(0, this.queue.indexOf(pending));
    for (const [key, machine] of pending.keys) {
      const holder = this.held.get(key);
      const owner = holder ?? queued.find((other) => other.keys.has(key))?.owner;
      if (!owner) continue;
      let blocker = byTask.get(owner.taskId);
      if (!blocker) byTask.set(owner.taskId, (blocker = { owner, machines: [], holds: holder !== undefined }));
      blocker.machines.push(machine);
    }
    const blockers = [...byTask.values()];
    const summary = JSON.stringify(blockers);
    if (summary === pending.lastBlockers) return;
    pending.lastBlockers = summary;
    pending.onBlocked(blockers);
  }
}
