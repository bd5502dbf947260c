import { decodeChunk, type Job, type JobError, type TentacleMessage } from '@cuttle/shared';
import type { HubChannel, InventoryMessage, TentacleJobHandler } from '../agent/job-handler.js';
import { truncate } from '../agent/messages.js';
import type { Logger } from '../log/logger.js';
import { appLayout, homeLayout, RUNNING_DIR, installDirProblem, segmentProblem, type AppLayout, type HomeLayout } from './app-paths.js';
import { DEPLOY_DEFAULTS, type DeployDefaults } from './deploy-defaults.js';
import { installPackage } from './install-job.js';
import { listInstalledApps, packagesInUse } from './inventory.js';
import { asJobFailure, JobFailure, toJobError } from './job-failure.js';
import type { DeployServices } from './job-runtime.js';
import { abortable } from './abortable.js';
import { PackageCache, readDiskSpace, type DiskSpaceReader } from './package-cache.js';
import type { PackageWriteHook } from './package-receiver.js';
import { recoverApps, type RecoveryReport } from './recovery.js';
import { runScriptJob } from './run-script-job.js';
import { RunningJob } from './running-job.js';
import { killLeftoverScripts, ScriptRecords } from './script-records.js';
import { killGroups } from './script-runner.js';

export interface DeployerOptions {
  /** the tentacle's home folder */
  home: string;
  log: Logger;
  /** the environment scripts start from; default the tentacle's own */
  env?: NodeJS.ProcessEnv;
  /** overrides of DEPLOY_DEFAULTS (tests make timings short) */
  defaults?: Partial<DeployDefaults>;
  now?: () => Date;
  /** how free disk is measured for cache pruning (tests simulate a small disk) */
  diskSpace?: DiskSpaceReader;
  /** see PackageWriteHook: the seam for simulating a full disk */
  beforePackageWrite?: PackageWriteHook;
}

/**
 * Runs the hub's jobs on this tentacle: deploy-package jobs (transfer, extract, scripts, switch)
 * and run-script jobs. One job per app folder (and per installDir) at a time; jobs for different
 * apps run at once. Jobs belong to the connection that started them and are aborted when it
 * closes. Never throws into the connection: every problem becomes a job-result or an error message.
 */
export class Deployer implements TentacleJobHandler {
  private readonly home: HomeLayout;
  private readonly log: Logger;
  private readonly defaults: DeployDefaults;
  private readonly cache: PackageCache;
  private readonly services: DeployServices;
  private readonly shutdown = new AbortController();
  private readonly jobs = new Map<string, RunningJob>();
  private readonly locks = new Map<string, RunningJob>();
  /** ids of jobs that ended lately: late chunks and cancels for them are dropped quietly */
  private readonly recent = new Set<string>();
  private readonly groups = new Set<number>();
  private readonly records: ScriptRecords;
  private pruning: Promise<void> = Promise.resolve();

  constructor(options: DeployerOptions) {
    this.home = homeLayout(options.home);
    this.log = options.log;
    this.defaults = { ...DEPLOY_DEFAULTS, ...options.defaults };
    const now = options.now ?? (() => new Date());
    this.records = new ScriptRecords(this.home.running, this.log);
    this.cache = new PackageCache(this.home, this.defaults, this.log, () => now().getTime(), options.diskSpace ?? readDiskSpace);
    this.services = {
      home: this.home,
      cache: this.cache,
      defaults: this.defaults,
      env: options.env ?? process.env,
      groups: this.groups,
      records: this.records,
      shutdown: this.shutdown.signal,
      logger: this.log,
      now,
      ...(options.beforePackageWrite === undefined ? {} : { beforePackageWrite: options.beforePackageWrite }),
    };
  }

  /**
   * Start-up recovery of interrupted deployments; call before the first connection (and before
   * any job runs: scripts an earlier run of the tentacle left running are killed first).
   */
  async recover(): Promise<RecoveryReport> {
    const killedScripts = await killLeftoverScripts(this.home.running, this.log, this.defaults.killGraceMs);
    return { killedScripts, ...(await recoverApps(this.home, this.log)) };
  }

  async attach(_channel: HubChannel): Promise<Omit<InventoryMessage, 'type'>> {
    const apps = await listInstalledApps(this.home);
    return { apps, activeJobs: [...this.jobs.keys()].slice(0, 1000) };
  }

  detach(channel: HubChannel): void {
    for (const job of this.jobs.values()) {
      if (job.channel !== channel || job.detached) continue;
      job.detached = true;
      job.abort(new JobFailure('connection-lost', 'the connection to the hub was lost'));
    }
  }

  start(channel: HubChannel, jobId: string, job: Job): void {
    const existing = this.jobs.get(jobId);
    if (existing !== undefined && !existing.detached) {
      channel.send(errorMessage('duplicate-job', `job ${jobId} is running already`, jobId));
      return;
    }
    const plan = this.plan(jobId, job);
    if (typeof plan === 'string') {
      this.log.warn('refused a job', { job: jobId, reason: plan });
      channel.send(failedResult(jobId, { code: 'invalid-job', message: plan }));
      return;
    }
    for (const key of plan.locks) {
      const holder = this.locks.get(key);
      if (holder !== undefined && !holder.detached) {
        const what = key.startsWith('app:') ? `the app ${plan.layout?.key ?? key}` : `installDir ${key.slice('installDir:'.length)}`;
        channel.send(failedResult(jobId, { code: 'busy', message: `job ${holder.jobId} is still running for ${what} on this tentacle` }));
        return;
      }
    }
    // a job of a closed connection may still be cleaning up the same app: this one starts after it
    const before = [existing, ...plan.locks.map((key) => this.locks.get(key))].filter((j): j is RunningJob => j !== undefined);
    const running = new RunningJob(jobId, job, channel, this.defaults, plan.locks);
    this.jobs.set(jobId, running);
    for (const key of plan.locks) this.locks.set(key, running);
    void this.execute(running, plan.layout, before).catch((error: unknown) => this.log.error('a job failed unexpectedly', { job: jobId, err: error }));
  }

  cancel(channel: HubChannel, jobId: string, reason: string): void {
    const job = this.jobs.get(jobId);
    if (job === undefined) {
      if (!this.recent.has(jobId)) channel.send(errorMessage('unknown-job', `no job ${jobId} runs on this tentacle`, jobId));
      return;
    }
    if (job.detached) return; // already being aborted
    this.log.info('cancelling a job', { job: jobId, reason });
    job.abort(new JobFailure('cancelled', reason === '' ? 'the job was cancelled' : `the job was cancelled: ${reason}`));
  }

  packageAbort(channel: HubChannel, jobId: string, reason: string): void {
    const job = this.jobs.get(jobId);
    if (job === undefined || job.detached) {
      if (job === undefined && !this.recent.has(jobId)) channel.send(errorMessage('unknown-job', `no job ${jobId} runs on this tentacle`, jobId));
      return;
    }
    if (job.phaseNow !== 'transfer') {
      this.log.debug('package-abort for a job past its transfer', { job: jobId, phase: job.phaseNow });
      return;
    }
    job.abort(new JobFailure('transfer-failed', `the hub could not send the package: ${reason}`));
  }

  chunk(channel: HubChannel, message: Buffer): void {
    const decoded = decodeChunk(message);
    if (!decoded.ok) {
      channel.send(errorMessage('invalid-message', decoded.message));
      return;
    }
    const job = this.jobs.get(decoded.jobId);
    if (job === undefined || job.channel !== channel) {
      if (!this.recent.has(decoded.jobId) && !(job?.detached ?? false)) {
        channel.send(errorMessage('unknown-job', `package bytes arrived for job ${decoded.jobId}, which does not run on this tentacle`, decoded.jobId));
      }
      return;
    }
    const receiver = job.receiver;
    if (receiver === undefined) {
      job.abort(new JobFailure('transfer-failed', `package bytes arrived for job ${decoded.jobId}, which is not waiting for any`));
      return;
    }
    // the transfer already ended (failed, or complete): the job's own failure, if any, is the one to report
    if (!receiver.accepting) return;
    try {
      receiver.accept(decoded.offset, decoded.data, channel);
    } catch (error) {
      job.abort(asJobFailure(error, 'transfer-failed'));
    }
  }

  /** Aborts every job (scripts are killed; DeployFailed.sh too) and waits for them to end. */
  async stop(): Promise<void> {
    this.shutdown.abort(new JobFailure('cancelled', 'the tentacle is stopping'));
    const jobs = [...this.jobs.values()];
    for (const job of jobs) job.abort(new JobFailure('cancelled', 'the tentacle is stopping'));
    await Promise.all(jobs.map((job) => job.ended));
    await this.pruning;
  }

  /** Kills every running script's process group at once, synchronously (the process is exiting). */
  killScripts(): void {
    killGroups(this.groups);
    this.records.clearSync();
  }

  /** Everything a job-start needs checked before it runs: its app folder and the locks it takes. */
  private plan(jobId: string, job: Job): { layout: AppLayout | undefined; locks: string[] } | string {
    const idProblem = segmentProblem(jobId, 'the job id');
    if (idProblem !== undefined) return idProblem;
    // its work folder would be the records' folder
    if (job.kind === 'run-script' && jobId === RUNNING_DIR) return `the job id ${JSON.stringify(jobId)} is reserved on the tentacle`;
    if (job.kind === 'run-script') return { layout: undefined, locks: [] };
    const layout = appLayout(this.home, job.app);
    if (typeof layout === 'string') return layout;
    const releaseProblem = segmentProblem(job.release, 'the release');
    if (releaseProblem !== undefined) return releaseProblem;
    if (job.installDir !== null) {
      const problem = installDirProblem(this.home, job.installDir);
      if (problem !== undefined) return problem;
    }
    return { layout, locks: [`app:${layout.dir}`, ...(job.installDir === null ? [] : [`installDir:${job.installDir}`])] };
  }

  private async execute(running: RunningJob, layout: AppLayout | undefined, before: RunningJob[]): Promise<void> {
    const { jobId, job } = running;
    const log = this.log.child({ job: jobId, kind: job.kind, step: job.step });
    const releaseUse = job.kind === 'deploy-package' ? this.cache.use(job.package.sha256) : undefined;
    log.info('job started', job.kind === 'deploy-package' ? { app: layout?.key, release: job.release, package: `${job.package.id} ${job.package.version}` } : {});
    let outcome: 'success' | 'failed' | 'cancelled' = 'success';
    let error: JobError | null = null;
    let releaseDir: string | null = null;
    try {
      if (before.length > 0) {
        running.log.info('waiting for an aborted job on the same app to finish cleaning up');
        await abortable(Promise.all(before.map((j) => j.ended)), running.signal);
      }
      if (job.kind === 'deploy-package' && layout !== undefined) releaseDir = await installPackage(running, job, layout, this.services);
      else if (job.kind === 'run-script') releaseDir = await runScriptJob(running, jobId, job, this.services);
    } catch (failure) {
      const raw = toJobError(running.signal.aborted ? running.signal.reason : failure, job.kind === 'deploy-package' ? 'install-failed' : 'script-failed');
      // a message may quote a file or a script's words: the job's secrets are masked there too
      error = { code: raw.code, message: truncate(running.log.mask(raw.message), 2048) };
      outcome = error.code === 'cancelled' ? 'cancelled' : 'failed';
      releaseDir = null;
      running.log.error(outcome === 'cancelled' ? error.message : `failed (${error.code}): ${error.message}`);
    }
    running.send({ type: 'job-result', jobId, outcome, error, bytesReceived: running.bytesReceived, releaseDir });
    log.info('job finished', { outcome, ...(error === null ? {} : { code: error.code, error: error.message }), bytesReceived: running.bytesReceived, detached: running.detached });
    this.forget(running);
    releaseUse?.();
    running.end();
    if (job.kind === 'deploy-package') this.schedulePrune();
  }

  private forget(running: RunningJob): void {
    if (this.jobs.get(running.jobId) === running) this.jobs.delete(running.jobId);
    for (const key of running.locks) if (this.locks.get(key) === running) this.locks.delete(key);
    this.recent.delete(running.jobId);
    this.recent.add(running.jobId);
    while (this.recent.size > this.defaults.recentJobsRemembered) {
      const oldest = this.recent.values().next().value;
      if (oldest === undefined) break;
      this.recent.delete(oldest);
    }
  }

  /** Cache pruning after each deployment, one run at a time, never failing anything. */
  private schedulePrune(): void {
    this.pruning = this.pruning
      .then(async () => {
        if (this.shutdown.signal.aborted) return;
        const report = await this.cache.prune(await packagesInUse(this.home));
        if (report.removed.length > 0) this.log.info('pruned the package cache', { removed: report.removed.length, freedBytes: report.freedBytes });
      })
      .catch((error: unknown) => this.log.warn('cannot prune the package cache', { err: error }));
  }
}

function failedResult(jobId: string, error: JobError): TentacleMessage {
  return { type: 'job-result', jobId, outcome: 'failed', error: { code: error.code, message: truncate(error.message, 2048) }, bytesReceived: 0, releaseDir: null };
}

function errorMessage(code: string, message: string, replyTo?: string): TentacleMessage {
  return { type: 'error', code, message: truncate(message, 1024), ...(replyTo === undefined ? {} : { replyTo }) };
}
