import { z } from 'zod';
import {
  InventorySchema,
  JobCancelSchema,
  JobLogSchema,
  JobResultSchema,
  JobStartSchema,
  JobStatusSchema,
  PackageAbortSchema,
  PackageRequestSchema,
} from './protocol-jobs.js';

/**
 * The contract between the hub and its tentacles, in one place.
 *
 * Transport: one websocket over TLS to the hub's tentacle port, path TENTACLE_CONNECT_PATH,
 * authenticated during the HTTP upgrade by a short-lived ES256 JWT in the `Authorization: Bearer`
 * header, signed with the tentacle's private key. Registration is a JSON POST to
 * TENTACLE_REGISTER_PATH on the same port. The tentacle pins the hub's certificate by its
 * SHA-256 fingerprint. Control messages are JSON text frames validated by the schemas below.
 */

/** Version of the hub <-> tentacle protocol, checked at hello. */
export const PROTOCOL_VERSION = 1;

export const TENTACLE_CONNECT_PATH = '/tentacle/v1/connect';
export const TENTACLE_REGISTER_PATH = '/tentacle/v1/register';

/** Named limits and timings of the protocol, shared by both ends. */
export const PROTOCOL_LIMITS = {
  /** Largest control (text) message either side accepts; a job-start carries a script of up to 64 KiB. */
  maxControlMessageBytes: 256 * 1024,
  /** Each side pings this often; a peer that has not answered by the next ping is dropped. */
  heartbeatIntervalMs: 20_000,
  /** The first message must arrive this soon after the websocket opens. */
  helloTimeoutMs: 10_000,
  /** Lifetime of the JWT a tentacle presents when it connects. */
  connectTokenLifetimeSeconds: 300,
  /** The hub refuses connect tokens that claim to live longer than this. */
  maxConnectTokenLifetimeSeconds: 900,
  /** Reconnect backoff: full jitter between 0 and min(max, base * 2^attempt). */
  reconnectBaseMs: 1_000,
  reconnectMaxMs: 60_000,
  /** Package bytes per binary message. */
  packageChunkBytes: 256 * 1024,
  /** Largest binary message either side accepts: a chunk plus its header (ws maxPayload). */
  maxBinaryMessageBytes: 256 * 1024 + 128,
  /** The hub stops queueing chunks while the socket holds this much unsent. */
  sendHighWaterBytes: 2 * 1024 * 1024,
  /** Longer output lines are cut to this many characters. */
  maxLogLineChars: 8 * 1024,
  /** The tentacle sends buffered log lines at least this often, at most 200 lines and this many characters per message. */
  logFlushIntervalMs: 200,
  maxLogBatchChars: 128 * 1024,
} as const;

/** The JWT audience a tentacle's connect token names. */
export const CONNECT_TOKEN_AUDIENCE = 'cuttle-hub';
export const CONNECT_TOKEN_ALGORITHM = 'ES256';

/** Close codes (4000-4999 are ours). The reason string says more. */
export const CLOSE_CODES = {
  protocolMismatch: 4001,
  replaced: 4002,
  revoked: 4003,
  disabled: 4004,
  invalidMessage: 4005,
  helloTimeout: 4006,
  shuttingDown: 4007,
} as const;

export const MachineNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "-", "_"; 1-63 characters, starting with a letter or digit');
export const RoleNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "-", "_"; 1-63 characters');
export const EnvironmentNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/, 'letters, digits, space, ".", "-", "_"; 1-63 characters, starting with a letter or digit')
  .refine((name) => !name.endsWith(' '), 'no trailing space');

export const OsInfoSchema = z.object({
  platform: z.string().max(64),
  release: z.string().max(128),
  arch: z.string().max(32),
  hostname: z.string().max(255),
});
export type OsInfo = z.infer<typeof OsInfoSchema>;

// ---- registration (HTTPS POST on the tentacle port) ----

export const RegisterRequestSchema = z
  .object({
    token: z.string().min(1).max(512),
    name: MachineNameSchema,
    roles: z.array(RoleNameSchema).max(50),
    environments: z.array(EnvironmentNameSchema).min(1, 'at least one environment').max(50),
    /** SPKI PEM of the tentacle's ES256 (P-256) public key */
    publicKey: z.string().min(1).max(4096),
    force: z.boolean().default(false),
  })
  .strict();
export type RegisterRequest = z.infer<typeof RegisterRequestSchema>;

export const RegisterResponseSchema = z.object({
  name: z.string(),
  roles: z.array(z.string()),
  environments: z.array(z.string()),
  registeredAt: z.string(),
});
export type RegisterResponse = z.infer<typeof RegisterResponseSchema>;

// ---- websocket messages ----

export const TentacleHelloSchema = z
  .object({
    type: z.literal('hello'),
    protocolVersion: z.number().int(),
    tentacleVersion: z.string().max(64),
    os: OsInfoSchema,
    freeDiskBytes: z.number().int().nonnegative().nullable(),
  })
  .strict();

export const HealthReportSchema = z
  .object({
    type: z.literal('health-report'),
    id: z.string().max(64),
    freeDiskBytes: z.number().int().nonnegative().nullable(),
    uptimeSeconds: z.number().nonnegative(),
  })
  .strict();

export const ErrorMessageSchema = z
  .object({
    type: z.literal('error'),
    code: z.string().max(64),
    message: z.string().max(1024),
    replyTo: z.string().max(64).optional(),
  })
  .strict();

/** Everything a tentacle may send the hub. */
export const TentacleMessageSchema = z.discriminatedUnion('type', [
  TentacleHelloSchema,
  HealthReportSchema,
  ErrorMessageSchema,
  JobStatusSchema,
  PackageRequestSchema,
  JobLogSchema,
  JobResultSchema,
  InventorySchema,
]);
export type TentacleMessage = z.infer<typeof TentacleMessageSchema>;

export const HubHelloSchema = z
  .object({
    type: z.literal('hello'),
    protocolVersion: z.number().int(),
    hubVersion: z.string().max(64),
    machine: z.object({ name: z.string(), roles: z.array(z.string()), environments: z.array(z.string()) }),
  })
  .strict();

export const HealthCheckSchema = z.object({ type: z.literal('health-check'), id: z.string().max(64) }).strict();

/** Everything the hub may send a tentacle. */
export const HubMessageSchema = z.discriminatedUnion('type', [HubHelloSchema, HealthCheckSchema, ErrorMessageSchema, JobStartSchema, JobCancelSchema, PackageAbortSchema]);
export type HubMessage = z.infer<typeof HubMessageSchema>;

export type ParsedMessage<T> = { ok: true; message: T } | { ok: false; code: 'invalid-message'; message: string };

/** Parses one text frame; never throws. */
export function parseMessage<T>(schema: z.ZodType<T>, raw: string): ParsedMessage<T> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, code: 'invalid-message', message: 'the message is not valid JSON' };
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const type = typeof json === 'object' && json !== null && 'type' in json ? String((json as { type: unknown }).type) : undefined;
    const summary = result.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
    return { ok: false, code: 'invalid-message', message: type ? `invalid "${type}" message: ${summary}` : `invalid message: ${summary}` };
  }
  return { ok: true, message: result.data };
}

/**
 * Full-jitter exponential backoff: a random delay in [0, ceiling], the ceiling doubling from
 * reconnectBaseMs per attempt up to reconnectMaxMs, and never above half the time the tentacle
 * has been offline. That last bound keeps the herd spread out while capping the wait after a hub
 * comes back at about half its outage: a hub down 20 s has every tentacle back within ~10 s.
 */
export function backoffDelayMs(attempt: number, random: () => number = Math.random, offlineForMs = Number.POSITIVE_INFINITY): number {
  const exponential = PROTOCOL_LIMITS.reconnectBaseMs * 2 ** Math.min(attempt, 30);
  const sinceOffline = Math.max(PROTOCOL_LIMITS.reconnectBaseMs, offlineForMs / 2);
  const ceiling = Math.min(PROTOCOL_LIMITS.reconnectMaxMs, exponential, sinceOffline);
  return Math.floor(random() * ceiling);
}
