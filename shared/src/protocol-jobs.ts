import { z } from 'zod';

/**
 * Jobs: the part of the hub <-> tentacle protocol that deploys. Included in the message unions of
 * protocol.ts.
 *
 * A deployment target is one job on one tentacle. The hub sends `job-start`; the tentacle answers
 * with `job-status` as it moves through its phases, `job-log` batches as output happens, and exactly
 * one `job-result`. A `deploy-package` job whose package is not in the tentacle's cache (keyed by
 * SHA-256) sends `package-request {offset}`; the hub then streams the package from that offset as
 * binary messages (see encodeChunk) gated on the socket's buffered amount, and the tentacle pauses
 * the socket while its file write drains. The tentacle knows the size and SHA-256 from `job-start`,
 * so the last chunk needs no end marker; it checks both before it keeps the file.
 *
 * A lost connection aborts the tentacle's jobs (scripts are killed, the new release folder is
 * removed, `current` is left alone) and keeps a partly received package, so that the hub can
 * start the job again once the tentacle is back and the transfer resumes from where it stopped.
 * After every hello the tentacle sends `inventory`: what is current on its disk and which jobs it
 * still runs; the hub cancels any it does not know.
 */

export const JobIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "-", "_"; 1-64 characters');
const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex characters');
const NameSchema = z.string().min(1).max(128);

/** Which app folder a deploy-package step installs into: `<home>/apps/<project>/<environment>[/steps/<slot>]`. */
export const AppRefSchema = z
  .object({
    project: NameSchema,
    environment: NameSchema,
    /** null for the first deploy-package step of a process; the step's name for any later one */
    slot: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/).nullable(),
  })
  .strict();
export type AppRef = z.infer<typeof AppRefSchema>;

/** What every job knows about the deployment it belongs to (also the scripts' CUTTLE_* variables). */
const JobContextShape = {
  deploymentId: z.number().int().nonnegative(),
  taskId: z.number().int().nonnegative(),
  project: NameSchema,
  release: NameSchema,
  environment: NameSchema,
  machine: NameSchema,
  step: z.string().min(1).max(100),
};

/** A variable resolved for one target (references already expanded by the hub). */
export const JobVariableSchema = z.object({ name: z.string().min(1).max(200), value: z.string().max(256 * 1024), sensitive: z.boolean() }).strict();
export type JobVariable = z.infer<typeof JobVariableSchema>;

/** A glob relative to the release root (picomatch syntax), e.g. `config/**\/*.json`. */
export const ReleaseGlobSchema = z
  .string()
  .min(1)
  .max(500)
  .refine((g) => !g.startsWith('/') && !g.split('/').includes('..') && !g.includes('\0'), 'a relative glob without ".." segments');

export const DeployPackageJobSchema = z
  .object({
    kind: z.literal('deploy-package'),
    ...JobContextShape,
    app: AppRefSchema,
    package: z.object({ id: NameSchema, version: NameSchema, sha256: Sha256Schema, size: z.number().int().nonnegative() }).strict(),
    /** absolute folder whose contents are replaced by the release, instead of switching `current` */
    installDir: z.string().min(1).max(4096).nullable(),
    /** old releases kept besides the current one */
    retain: z.number().int().min(0).max(100),
    /** limit for each of PreDeploy.sh, Deploy.sh, PostDeploy.sh and DeployFailed.sh */
    scriptTimeoutSeconds: z.number().int().min(1).max(24 * 3600),
    /** the target's variables, built-ins included; exported to scripts and used by the steps below */
    variables: z.array(JobVariableSchema).max(10_000).optional(),
    /** files in which `#{Name}` is substituted */
    substituteIn: z.array(ReleaseGlobSchema).max(100).optional(),
    /** JSON and YAML files whose key paths (`Logging:LogLevel:Default`) are set from variables */
    structuredVariables: z.array(ReleaseGlobSchema).max(100).optional(),
    /** every environment's name, so that the transform files of all of them are removed */
    environments: z.array(NameSchema).max(1000).optional(),
  })
  .strict();
export type DeployPackageJob = z.infer<typeof DeployPackageJobSchema>;

export const RunScriptJobSchema = z
  .object({
    kind: z.literal('run-script'),
    ...JobContextShape,
    script: z.string().min(1).max(64 * 1024),
    timeoutSeconds: z.number().int().min(1).max(24 * 3600),
    /** the target's variables, built-ins included; exported to the script's environment */
    variables: z.array(JobVariableSchema).max(10_000).optional(),
  })
  .strict();
export type RunScriptJob = z.infer<typeof RunScriptJobSchema>;

export const JobSchema = z.discriminatedUnion('kind', [DeployPackageJobSchema, RunScriptJobSchema]);
export type Job = z.infer<typeof JobSchema>;

// ---- hub -> tentacle ----

export const JobStartSchema = z.object({ type: z.literal('job-start'), jobId: JobIdSchema, job: JobSchema }).strict();
export const JobCancelSchema = z.object({ type: z.literal('job-cancel'), jobId: JobIdSchema, reason: z.string().max(1024) }).strict();
/** The hub cannot send (more of) the package; the tentacle fails the job with this reason. */
export const PackageAbortSchema = z.object({ type: z.literal('package-abort'), jobId: JobIdSchema, reason: z.string().max(1024) }).strict();

// ---- tentacle -> hub ----

export const JOB_PHASES = ['transfer', 'extract', 'PreDeploy', 'configure', 'Deploy', 'PostDeploy', 'switch', 'DeployFailed', 'script'] as const;
export const JobPhaseSchema = z.enum(JOB_PHASES);
export type JobPhase = z.infer<typeof JobPhaseSchema>;

export const JobStatusSchema = z.object({ type: z.literal('job-status'), jobId: JobIdSchema, phase: JobPhaseSchema }).strict();

export const PackageRequestSchema = z
  .object({ type: z.literal('package-request'), jobId: JobIdSchema, offset: z.number().int().nonnegative() })
  .strict();

export const LOG_STREAMS = ['info', 'warn', 'error', 'stdout', 'stderr'] as const;
export const LogStreamSchema = z.enum(LOG_STREAMS);
export type LogStream = z.infer<typeof LogStreamSchema>;

export const JobLogLineSchema = z
  .object({
    at: z.string().max(40),
    stream: LogStreamSchema,
    /** one line without its line break; longer lines are cut at maxLogLineChars */
    text: z.string().max(8 * 1024),
  })
  .strict();
export type JobLogLine = z.infer<typeof JobLogLineSchema>;

export const JobLogSchema = z.object({ type: z.literal('job-log'), jobId: JobIdSchema, lines: z.array(JobLogLineSchema).min(1).max(200) }).strict();

/**
 * Why a target failed; stable codes shown in task targets.
 * - machine-offline: not connected when its turn came (or never came back in time)
 * - connection-lost: the connection dropped while scripts ran, or a transfer could not resume
 * - transfer-failed: the hub could not send the package, or the tentacle could not store it
 * - package-corrupt: the received bytes do not match the package's size or SHA-256
 * - extract-failed / unsafe-zip-entry / zip-limits-exceeded / invalid-zip: extraction refused or failed
 * - script-failed: a deploy script exited non-zero (the message names it and its exit code)
 * - script-timeout: a script ran longer than its timeout and was killed
 * - configuration-failed: substitution, an environment transform file or a structured replacement failed (the file is named)
 * - install-failed: switching `current`, copying into installDir or another file-system step failed
 * - disk-full: the tentacle ran out of disk space
 * - busy: another job runs for the same app on that tentacle
 * - cancelled: the task was cancelled
 * - interrupted: the hub restarted while the target ran
 * - invalid-job: the tentacle refused the job as malformed or unsupported
 */
export const TARGET_FAILURE_CODES = [
  'machine-offline',
  'connection-lost',
  'transfer-failed',
  'package-corrupt',
  'extract-failed',
  'unsafe-zip-entry',
  'zip-limits-exceeded',
  'invalid-zip',
  'script-failed',
  'script-timeout',
  'configuration-failed',
  'install-failed',
  'disk-full',
  'busy',
  'cancelled',
  'interrupted',
  'invalid-job',
] as const;
export const TargetFailureCodeSchema = z.enum(TARGET_FAILURE_CODES);
export type TargetFailureCode = z.infer<typeof TargetFailureCodeSchema>;

export const JobErrorSchema = z.object({ code: TargetFailureCodeSchema, message: z.string().max(2048) }).strict();
export type JobError = z.infer<typeof JobErrorSchema>;

export const JobResultSchema = z
  .object({
    type: z.literal('job-result'),
    jobId: JobIdSchema,
    outcome: z.enum(['success', 'failed', 'cancelled']),
    error: JobErrorSchema.nullable(),
    /** package bytes this job received over the websocket (0 when the cache had it) */
    bytesReceived: z.number().int().nonnegative(),
    /** for a successful deploy-package job: the release folder now current (or copied into installDir) */
    releaseDir: z.string().max(4096).nullable(),
  })
  .strict();

export const InstalledAppSchema = z
  .object({
    app: AppRefSchema,
    /** release whose folder `current` points at (or last copied into installDir); null when none */
    release: NameSchema.nullable(),
    packageId: NameSchema.nullable(),
    packageVersion: NameSchema.nullable(),
    deployedAt: z.string().max(40).nullable(),
  })
  .strict();
export type InstalledApp = z.infer<typeof InstalledAppSchema>;

export const InventorySchema = z
  .object({
    type: z.literal('inventory'),
    apps: z.array(InstalledAppSchema).max(10_000),
    /** jobs the tentacle is still running (after a reconnect); the hub cancels those it does not know */
    activeJobs: z.array(JobIdSchema).max(1000),
  })
  .strict();

// ---- package chunks (binary messages, hub -> tentacle) ----

/**
 * A chunk is one binary message: byte 0 = CHUNK_FORMAT, byte 1 = length n of the job id, n bytes
 * of job id (ASCII), 8 bytes of big-endian offset into the package, then the data.
 */
export const CHUNK_FORMAT = 1;

export function encodeChunkHeader(jobId: string, offset: number): Buffer {
  const id = Buffer.from(jobId, 'ascii');
  const header = Buffer.alloc(2 + id.length + 8);
  header[0] = CHUNK_FORMAT;
  header[1] = id.length;
  id.copy(header, 2);
  header.writeBigUInt64BE(BigInt(offset), 2 + id.length);
  return header;
}

export type DecodedChunk = { ok: true; jobId: string; offset: number; data: Buffer } | { ok: false; message: string };

/** Parses a binary message; never throws. `data` is a view into `message`. */
export function decodeChunk(message: Buffer): DecodedChunk {
  if (message.length < 2) return { ok: false, message: 'binary message too short for a chunk header' };
  if (message[0] !== CHUNK_FORMAT) return { ok: false, message: `unknown chunk format ${message[0]}` };
  const idLength = message[1]!;
  const dataStart = 2 + idLength + 8;
  if (idLength === 0 || idLength > 64 || message.length < dataStart) return { ok: false, message: 'malformed chunk header' };
  const jobId = message.subarray(2, 2 + idLength).toString('ascii');
  if (!JobIdSchema.safeParse(jobId).success) return { ok: false, message: 'malformed job id in chunk header' };
  const offset = message.readBigUInt64BE(2 + idLength);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, message: 'chunk offset out of range' };
  return { ok: true, jobId, offset: Number(offset), data: message.subarray(dataStart) };
}
