import { createHash } from 'node:crypto';
import { lstat, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { extractZip, hashFile, type DeployPackageJob } from '@cuttle/shared';
import { RELEASES_DIR, type AppLayout } from './app-paths.js';
import { emptyAppState, readAppState, writeAppState, type AppState, type ReleaseRecord } from './app-state.js';
import { DEPLOY_FAILED_SCRIPT, DEPLOY_SCRIPT_PHASES, runLogged, runPackageScript, type ScriptPlace } from './deploy-scripts.js';
import { configureRelease } from './configure/configure-release.js';
import { asJobFailure, JobFailure } from './job-failure.js';
import { scriptEnv } from './job-env.js';
import { mib, seconds, type DeployServices, type JobRuntime } from './job-runtime.js';
import { PackageReceiver } from './package-receiver.js';
import { discardInstallDirTemp, prepareInstallDir, replaceInstallDir, switchCurrent } from './release-switch.js';

/**
 * A deploy-package job: package from the cache or the hub, extraction into a fresh
 * releases/<folder>, PreDeploy.sh, configuration (configure/), Deploy.sh, PostDeploy.sh, then `current` (or installDir)
 * switched to it and old releases pruned to `retain`. Any failure after extraction runs
 * DeployFailed.sh and removes the new folder; `current`, installDir and app.json stay as they were.
 * Resolves with the folder now current (the release folder, or installDir).
 */
export async function installPackage(rt: JobRuntime, job: DeployPackageJob, layout: AppLayout, services: DeployServices): Promise<string> {
  rt.phase('transfer');
  const pkgFile = await obtainPackage(rt, job, services);

  rt.phase('extract');
  const read = await readAppState(layout);
  if (!read.ok) throw new JobFailure('install-failed', `${read.problem}; repair or remove it, then deploy again`);
  const state = read.state ?? emptyAppState(layout);
  let folder: string;
  let releaseDir: string;
  let extractedFiles: readonly string[];
  try {
    await mkdir(layout.releases, { recursive: true });
    folder = await freeFolder(layout, job.release, state);
    releaseDir = path.join(layout.releases, folder);
    const started = performance.now();
    // the package's SHA-256 was checked when it was obtained; extraction still checks every entry's CRC-32
    const extracted = await extractZip(pkgFile, releaseDir, { signal: rt.signal });
    rt.log.info(`extracted ${extracted.files} files, ${mib(extracted.bytes)} into ${RELEASES_DIR}/${folder} in ${seconds(performance.now() - started)}`);
    extractedFiles = extracted.filePaths;
  } catch (error) {
    throw asJobFailure(rt.signal.aborted ? rt.signal.reason : error, 'extract-failed');
  }

  const record: ReleaseRecord = {
    release: job.release,
    packageId: job.package.id,
    packageVersion: job.package.version,
    sha256: job.package.sha256,
    folder,
    deployedAt: services.now().toISOString(),
    taskId: job.taskId,
    deploymentId: job.deploymentId,
  };
  const place: ScriptPlace = { dir: releaseDir, env: scriptEnv(services.env, job, releaseDir), timeoutSeconds: job.scriptTimeoutSeconds };
  await runScriptsAndSwitch(rt, job, layout, services, state, record, place, extractedFiles);
  await settleAfterSwitch(rt, job, layout, state, record);
  return job.installDir ?? releaseDir;
}

/** The package's file in the cache, its size and SHA-256 checked by this job. */
async function obtainPackage(rt: JobRuntime, job: DeployPackageJob, services: DeployServices): Promise<string> {
  const { id, version, sha256, size } = job.package;
  const unlock = await services.cache.lockTransfer(sha256, rt.signal);
  try {
    const cached = await services.cache.lookup(sha256, size);
    if (cached !== null) {
      const hash = createHash('sha256');
      await hashFile(cached, hash, rt.signal);
      if (hash.digest('hex') === sha256) {
        rt.log.info(`package ${id} ${version} found in the cache; SHA-256 verified`);
        return cached;
      }
      // damaged on disk since it was received (a crash, a bad disk): fetch it again
      rt.log.warn(`the cached package ${id} ${version} does not match its SHA-256; receiving it again`);
      await services.cache.discard(sha256);
    }
    const opened = await PackageReceiver.open({
      cache: services.cache,
      sha256,
      size,
      signal: rt.signal,
      highWaterBytes: services.defaults.receiveHighWaterBytes,
      ...(services.beforePackageWrite === undefined ? {} : { beforeWrite: services.beforePackageWrite }),
    });
    if (opened.kind === 'complete') {
      rt.log.info(`package ${id} ${version} was received completely before; SHA-256 verified`);
      return opened.file;
    }
    const { receiver } = opened;
    rt.setReceiver(receiver);
    if (receiver.startOffset > 0) rt.log.info(`resuming the transfer of package ${id} ${version} at byte ${receiver.startOffset} of ${size}`);
    else rt.log.info(`receiving package ${id} ${version} (${mib(size)})`);
    const started = performance.now();
    rt.send({ type: 'package-request', jobId: rt.jobId, offset: receiver.startOffset });
    const file = await receiver.done;
    rt.log.info(`received ${mib(receiver.received)} in ${seconds(performance.now() - started)}; size and SHA-256 verified`);
    return file;
  } catch (error) {
    throw asJobFailure(error, 'transfer-failed');
  } finally {
    rt.setReceiver(undefined);
    unlock();
  }
}

/** `<release>`, or `<release>_2`, `_3`, ... when that folder exists or is recorded already. */
async function freeFolder(layout: AppLayout, release: string, state: AppState): Promise<string> {
  const taken = new Set(state.releases.map((r) => r.folder));
  if (state.pending !== null) taken.add(state.pending.record.folder);
  for (let n = 1; ; n++) {
    const folder = n === 1 ? release : `${release}_${n}`;
    if (taken.has(folder)) continue;
    if ((await lstat(path.join(layout.releases, folder)).catch(() => null)) === null) return folder;
  }
}

async function runScriptsAndSwitch(
  rt: JobRuntime,
  job: DeployPackageJob,
  layout: AppLayout,
  services: DeployServices,
  state: AppState,
  record: ReleaseRecord,
  place: ScriptPlace,
  extractedFiles: readonly string[],
): Promise<void> {
  let pendingWritten = false;
  // the release's files are those extraction wrote until a script (PreDeploy.sh) may have changed them
  let knownFiles: readonly string[] | undefined = extractedFiles;
  try {
    for (const phase of DEPLOY_SCRIPT_PHASES) {
      if (phase === 'Deploy') {
        rt.signal.throwIfAborted();
        await configureRelease(rt, job, place.dir, { maxFileBytes: services.defaults.maxConfigFileBytes, ...(knownFiles === undefined ? {} : { knownFiles }) });
      }
      const name = `${phase}.sh`;
      const file = path.join(place.dir, name);
      if ((await lstat(file).catch(() => null)) === null) continue;
      knownFiles = undefined;
      rt.phase(phase);
      await runPackageScript(rt, services, name, place, rt.signal);
    }
    rt.signal.throwIfAborted();
    rt.phase('switch');
    if (job.installDir !== null) await prepareInstallDir(job.installDir);
    await writeAppState(layout, { ...state, pending: { record, installDir: job.installDir } });
    pendingWritten = true;
    // from here on the switch is one step that an abort does not interrupt
    if (job.installDir !== null) {
      const { oldRemoved } = await replaceInstallDir(place.dir, job.installDir);
      rt.log.info(`copied ${RELEASES_DIR}/${record.folder} into ${job.installDir}`);
      if (!oldRemoved) rt.log.warn(`the previous contents of ${job.installDir} could not be removed from beside it`);
    } else {
      await switchCurrent(layout, record.folder);
      rt.log.info(`current -> ${RELEASES_DIR}/${record.folder}`);
    }
  } catch (error) {
    const failure = asJobFailure(rt.signal.aborted ? rt.signal.reason : error, 'install-failed');
    rt.log.error(failure.message);
    await cleanUpFailed(rt, job, layout, services, state, place, pendingWritten);
    throw failure;
  }
}

/**
 * After a failure: DeployFailed.sh (when present; its own failure is only logged, and neither a
 * cancel nor a lost connection stops it, only its timeout or the tentacle stopping), then the new
 * folder goes and app.json is put back.
 */
async function cleanUpFailed(
  rt: JobRuntime,
  job: DeployPackageJob,
  layout: AppLayout,
  services: DeployServices,
  state: AppState,
  place: ScriptPlace,
  pendingWritten: boolean,
): Promise<void> {
  rt.phase('DeployFailed');
  const file = path.join(place.dir, DEPLOY_FAILED_SCRIPT);
  if ((await lstat(file).catch(() => null)) !== null) {
    try {
      await runLogged(rt, services, file, DEPLOY_FAILED_SCRIPT, place, services.shutdown);
    } catch {
      // logged by runLogged; the job's own failure is what counts
    }
  }
  try {
    if (job.installDir !== null) await discardInstallDirTemp(job.installDir);
    if (pendingWritten) await writeAppState(layout, state);
    await rm(place.dir, { recursive: true, force: true });
    rt.log.info(`removed ${RELEASES_DIR}/${path.basename(place.dir)}; the current release is unchanged`);
  } catch (error) {
    rt.log.warn(`cannot clean up after the failure: ${(error as Error).message}; it is removed when the tentacle restarts`);
    services.logger.warn('cannot clean up a failed release', { dir: place.dir, err: error });
  }
}

/**
 * The switch is done: app.json records the new current release and drops the oldest ones beyond
 * `retain`, whose folders then go. Nothing here fails the job any more; a problem is a warning
 * (and recovery at the next start finishes the bookkeeping from `pending`).
 */
async function settleAfterSwitch(rt: JobRuntime, job: DeployPackageJob, layout: AppLayout, state: AppState, record: ReleaseRecord): Promise<void> {
  const kept = [...state.releases.filter((r) => r.folder !== record.folder), record];
  const older = kept.filter((r) => r.folder !== record.folder);
  const dropped = older.slice(0, Math.max(0, older.length - job.retain));
  const next: AppState = {
    ...state,
    current: record.folder,
    installDir: job.installDir,
    releases: kept.filter((r) => !dropped.includes(r)),
    pending: null,
  };
  try {
    await writeAppState(layout, next);
  } catch (error) {
    rt.log.warn(`cannot update ${layout.state}: ${(error as Error).message}`);
    return;
  }
  for (const old of dropped) {
    try {
      await rm(path.join(layout.releases, old.folder), { recursive: true, force: true });
      rt.log.info(`removed old release ${old.release} (${RELEASES_DIR}/${old.folder})`);
    } catch (error) {
      rt.log.warn(`cannot remove old release folder ${RELEASES_DIR}/${old.folder}: ${(error as Error).message}`);
    }
  }
}
