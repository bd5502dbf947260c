import type { InstalledApp, Job } from '@cuttle/shared';
import type { JobHandlers, JobOutcome, TentacleJobs } from '../tentacle-jobs.js';

/** Test support: one call of `run` as the fake saw it, and the means to end it. */
export interface FakeRun {
  machine: string;
  job: Job;
  handlers: JobHandlers;
  signal: AbortSignal;
  /** Ends the job with this outcome (once; later calls do nothing). */
  finish(outcome?: Partial<JobOutcome>): void;
  fail(code: NonNullable<JobOutcome['error']>['code'], message: string): void;
}

export const SUCCESS: JobOutcome = { outcome: 'success', error: null, bytesSent: 0, releaseDir: '/apps/x/current' };

/**
 * Test support: a TentacleJobs whose jobs end when the test says (or at once with `autoFinish`),
 * resolving `cancelled` when their signal aborts, and which counts how many run at once.
 */
export class FakeTentacleJobs implements TentacleJobs {
  readonly runs: FakeRun[] = [];
  running = 0;
  maxRunning = 0;
  /** When set, every job ends at once with what it returns (a promise delays the end). */
  autoFinish: ((run: FakeRun) => Partial<JobOutcome> | Promise<Partial<JobOutcome>>) | null = null;
  private readonly online = new Set<string>();
  private readonly inventoryListeners: Array<(machine: string, apps: InstalledApp[]) => void> = [];
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  setOnline(machine: string, online: boolean): void {
    if (online) this.online.add(machine.toLowerCase());
    else this.online.delete(machine.toLowerCase());
  }

  isOnline(machine: string): boolean {
    return this.online.has(machine.toLowerCase());
  }

  run(machine: string, job: Job, handlers: JobHandlers, signal: AbortSignal): Promise<JobOutcome> {
    if (!this.isOnline(machine)) {
      return Promise.resolve({ outcome: 'failed', error: { code: 'machine-offline', message: `${machine} is offline` }, bytesSent: 0, releaseDir: null });
    }
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    return new Promise<JobOutcome>((resolve) => {
      let done = false;
      const end = (outcome: JobOutcome) => {
        if (done) return;
        done = true;
        this.running--;
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = () => end({ outcome: 'cancelled', error: { code: 'cancelled', message: 'the task was cancelled' }, bytesSent: 0, releaseDir: null });
      signal.addEventListener('abort', onAbort, { once: true });
      const run: FakeRun = {
        machine,
        job,
        handlers,
        signal,
        finish: (outcome = {}) => end({ ...SUCCESS, ...outcome }),
        fail: (code, message) => end({ outcome: 'failed', error: { code, message }, bytesSent: 0, releaseDir: null }),
      };
      this.runs.push(run);
      for (const waiter of [...this.waiters]) {
        if (this.runs.length >= waiter.count) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      if (signal.aborted) onAbort();
      else if (this.autoFinish) void Promise.resolve(this.autoFinish(run)).then((outcome) => run.finish(outcome));
    });
  }

  /** Resolves once `count` jobs have started in all. */
  waitForRuns(count: number): Promise<void> {
    if (this.runs.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  onInventory(listener: (machine: string, apps: InstalledApp[]) => void): void {
    this.inventoryListeners.push(listener);
  }

  reportInventory(machine: string, apps: InstalledApp[]): void {
    for (const listener of this.inventoryListeners) listener(machine, apps);
  }
}
