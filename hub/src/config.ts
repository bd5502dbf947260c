import { parseArgs } from 'node:util';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_ZIP_LIMITS, OverwriteModeSchema, type OverwriteMode, type ZipLimits } from '@cuttle/shared';
import { DEFAULT_MAX_CONCURRENT_TRANSFERS } from './gateway/transfer-slots.js';
import { parseMasterKey } from './variables/master-key.js';

/** Every limit of the hub, with its default, in one place. */
export const DEFAULTS = {
  data: './cuttle-data',
  host: '0.0.0.0',
  port: 8080,
  tentaclePort: 10943,
  maxPackageSize: 10 * 1024 ** 3,
  /** An upload that sends no byte for this long is cut off (a slow upload is fine, a stalled one is not). */
  uploadIdleTimeoutSeconds: 120,
  /** JSON bodies of the API are small. */
  jsonBodyLimit: 64 * 1024,
  headersTimeoutMs: 60_000,
  inboxOverwriteMode: 'FailIfExists' as OverwriteMode,
  /** A file in the inbox must keep its size this long before it is taken (slow copies). */
  inboxSettleMs: 2_000,
  logLevel: 'info',
  healthCheckIntervalSeconds: 300,
  /** A tentacle whose connection dropped during a package transfer has this long to come back before its target fails. */
  transferReconnectGraceSeconds: 60,
  /** Package transfers that stream at once, over all tentacles; more wait their turn. */
  maxConcurrentTransfers: DEFAULT_MAX_CONCURRENT_TRANSFERS,
} as const;

export interface HubConfig {
  dataDir: string;
  host: string;
  port: number;
  tentaclePort: number;
  inboxDir: string;
  maxPackageSize: number;
  keepPackageVersions: number | null;
  uploadIdleTimeoutMs: number;
  inboxOverwriteMode: OverwriteMode;
  inboxSettleMs: number;
  zipLimits: ZipLimits;
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
  adminApiKey: string | null;
  /** CUTTLE_MASTER_KEY: base64 of the 32-byte key that seals sensitive variables; null: `<data>/master.key` */
  masterKey: string | null;
  healthCheckIntervalMs: number;
  transferReconnectGraceMs: number;
  maxConcurrentTransfers: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export const USAGE = `Usage: cuttle-hub [options]

Options (each also settable by the environment variable shown):
  --data DIR                    data folder: database, packages, inbox, TLS material (CUTTLE_DATA, default ./cuttle-data)
  --host ADDR                   address both listeners bind (CUTTLE_HOST, default 0.0.0.0)
  --port N                      HTTP API port, 0 picks a free one (CUTTLE_PORT, default 8080)
  --tentacle-port N             TLS port for tentacles, 0 picks a free one (CUTTLE_TENTACLE_PORT, default 10943)
  --inbox DIR                   folder watched for dropped packages (CUTTLE_INBOX, default <data>/inbox)
  --max-package-size SIZE       largest accepted package, e.g. 10GiB, 500MiB, 1048576 (CUTTLE_MAX_PACKAGE_SIZE, default 10GiB)
  --keep-package-versions N     keep the newest N versions of each package id (CUTTLE_KEEP_PACKAGE_VERSIONS, default all)
  --upload-idle-timeout SECONDS cut off an upload that sends nothing for this long (CUTTLE_UPLOAD_IDLE_TIMEOUT, default 120)
  --inbox-overwrite-mode MODE   FailIfExists | OverwriteExisting | IgnoreIfExists for dropped files (CUTTLE_INBOX_OVERWRITE_MODE, default FailIfExists)
  --max-zip-entries N           most entries a package may have (CUTTLE_MAX_ZIP_ENTRIES, default 100000)
  --max-unpacked-size SIZE      largest total uncompressed size of a package (CUTTLE_MAX_UNPACKED_SIZE, default 32GiB)
  --max-compression-ratio N     highest compression ratio of an entry of 1 MiB or more (CUTTLE_MAX_COMPRESSION_RATIO, default 200)
  --tls-cert FILE --tls-key FILE  PEM certificate and key for the tentacle port (CUTTLE_TLS_CERT, CUTTLE_TLS_KEY; default: self-signed, made on first start)
  --health-check-interval SECONDS  health-check every connected tentacle this often (CUTTLE_HEALTH_CHECK_INTERVAL, default 300)
  --transfer-reconnect-grace SECONDS  how long a tentacle that lost its connection mid-transfer has to come back (CUTTLE_TRANSFER_RECONNECT_GRACE, default 60)
  --max-concurrent-transfers N  package transfers to tentacles that stream at once; the others wait their turn (CUTTLE_MAX_CONCURRENT_TRANSFERS, default 4)
  --log-level LEVEL             fatal|error|warn|info|debug|trace|silent (CUTTLE_LOG_LEVEL, default info)
  -h, --help                    show this help
  -v, --version                 show the version

Environment only:
  CUTTLE_ADMIN_API_KEY          the first admin API key, used only when the database is new (otherwise one is generated and printed once)
  CUTTLE_MASTER_KEY             base64 of the 32-byte key that encrypts sensitive variables (default: <data>/master.key, made on first start)
`;

const FLAG_ENV: Record<string, string> = {
  data: 'CUTTLE_DATA',
  host: 'CUTTLE_HOST',
  port: 'CUTTLE_PORT',
  'tentacle-port': 'CUTTLE_TENTACLE_PORT',
  inbox: 'CUTTLE_INBOX',
  'max-package-size': 'CUTTLE_MAX_PACKAGE_SIZE',
  'keep-package-versions': 'CUTTLE_KEEP_PACKAGE_VERSIONS',
  'upload-idle-timeout': 'CUTTLE_UPLOAD_IDLE_TIMEOUT',
  'inbox-overwrite-mode': 'CUTTLE_INBOX_OVERWRITE_MODE',
  'max-zip-entries': 'CUTTLE_MAX_ZIP_ENTRIES',
  'max-unpacked-size': 'CUTTLE_MAX_UNPACKED_SIZE',
  'max-compression-ratio': 'CUTTLE_MAX_COMPRESSION_RATIO',
  'tls-cert': 'CUTTLE_TLS_CERT',
  'tls-key': 'CUTTLE_TLS_KEY',
  'log-level': 'CUTTLE_LOG_LEVEL',
  'health-check-interval': 'CUTTLE_HEALTH_CHECK_INTERVAL',
  'transfer-reconnect-grace': 'CUTTLE_TRANSFER_RECONNECT_GRACE',
  'max-concurrent-transfers': 'CUTTLE_MAX_CONCURRENT_TRANSFERS',
};

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1000 ** 4, tib: 1024 ** 4,
};

/** Parses `10GiB`, `500MB`, `1048576`; returns null when it is not a size. */
export function parseSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!match) return null;
  const unit = SIZE_UNITS[(match[2] ?? '').toLowerCase()];
  if (unit === undefined) return null;
  return Math.floor(Number(match[1]) * unit);
}

const port = z.coerce.number().int().min(0).max(65535);
const size = z.string().transform((text, ctx) => {
  const value = parseSize(text);
  if (value === null || value <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a size (examples: 10GiB, 500MiB, 1048576)` });
    return z.NEVER;
  }
  return value;
});
const positiveInt = z.coerce.number().int().positive();
/** Longest delay a Node timer takes (2^31 - 1 ms); longer ones overflow and fire after 1 ms. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000); // 2147483, about 24.8 days
const timerSeconds = positiveInt.max(MAX_TIMER_SECONDS, `at most ${MAX_TIMER_SECONDS} seconds (about 24.8 days): Node timers cannot wait longer`);

const RawConfigSchema = z.object({
  data: z.string().min(1).default(DEFAULTS.data),
  host: z.string().min(1).default(DEFAULTS.host),
  port: port.default(DEFAULTS.port),
  'tentacle-port': port.default(DEFAULTS.tentaclePort),
  inbox: z.string().min(1).optional(),
  'max-package-size': size.optional(),
  'keep-package-versions': positiveInt.optional(),
  'upload-idle-timeout': timerSeconds.default(DEFAULTS.uploadIdleTimeoutSeconds),
  'inbox-overwrite-mode': OverwriteModeSchema.default(DEFAULTS.inboxOverwriteMode),
  'max-zip-entries': positiveInt.default(DEFAULT_ZIP_LIMITS.maxEntries),
  'max-unpacked-size': size.optional(),
  'max-compression-ratio': positiveInt.default(DEFAULT_ZIP_LIMITS.maxCompressionRatio),
  'tls-cert': z.string().min(1).optional(),
  'tls-key': z.string().min(1).optional(),
  'health-check-interval': timerSeconds.default(DEFAULTS.healthCheckIntervalSeconds),
  'transfer-reconnect-grace': timerSeconds.default(DEFAULTS.transferReconnectGraceSeconds),
  'max-concurrent-transfers': positiveInt.max(1000).default(DEFAULTS.maxConcurrentTransfers),
  'log-level': z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(DEFAULTS.logLevel),
});

export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'config'; config: HubConfig } | { kind: 'invalid'; problems: string[] };

/** Reads flags and environment; collects every problem instead of stopping at the first. */
export function parseHubArgs(argv: string[], env: NodeJS.ProcessEnv): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(FLAG_ENV).map((name) => [name, { type: 'string' as const }]));
    ({ values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { kind: 'invalid', problems: [(error as Error).message] };
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  const raw: Record<string, string> = {};
  for (const [flag, envName] of Object.entries(FLAG_ENV)) {
    const fromFlag = values[flag];
    const fromEnv = env[envName];
    if (typeof fromFlag === 'string') raw[flag] = fromFlag;
    else if (fromEnv !== undefined && fromEnv !== '') raw[flag] = fromEnv;
  }
  const parsed = RawConfigSchema.safeParse(raw);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const flag = String(issue.path[0] ?? '');
      problems.push(`--${flag} (${FLAG_ENV[flag] ?? ''}): ${issue.message}${raw[flag] !== undefined ? ` (got "${raw[flag]}")` : ''}`);
    }
  }
  const adminApiKey = env.CUTTLE_ADMIN_API_KEY || null;
  if (adminApiKey !== null && (adminApiKey.trim() !== adminApiKey || adminApiKey.length < 8)) {
    problems.push('CUTTLE_ADMIN_API_KEY: must be at least 8 characters with no surrounding spaces');
  }
  const masterKey = env.CUTTLE_MASTER_KEY || null;
  if (masterKey !== null) {
    try {
      parseMasterKey(masterKey, 'CUTTLE_MASTER_KEY');
    } catch (error) {
      problems.push((error as Error).message); // names the variable, never repeats its value
    }
  }
  if ((raw['tls-cert'] === undefined) !== (raw['tls-key'] === undefined)) {
    problems.push('--tls-cert and --tls-key must be given together');
  }
  if (!parsed.success || problems.length > 0) return { kind: 'invalid', problems };

  const c = parsed.data;
  const dataDir = path.resolve(c.data);
  return {
    kind: 'config',
    config: {
      dataDir,
      host: c.host,
      port: c.port,
      tentaclePort: c['tentacle-port'],
      inboxDir: path.resolve(c.inbox ?? path.join(dataDir, 'inbox')),
      maxPackageSize: c['max-package-size'] ?? DEFAULTS.maxPackageSize,
      keepPackageVersions: c['keep-package-versions'] ?? null,
      uploadIdleTimeoutMs: c['upload-idle-timeout'] * 1000,
      inboxOverwriteMode: c['inbox-overwrite-mode'],
      inboxSettleMs: DEFAULTS.inboxSettleMs,
      zipLimits: {
        ...DEFAULT_ZIP_LIMITS,
        maxEntries: c['max-zip-entries'],
        maxUnpackedSize: c['max-unpacked-size'] ?? DEFAULT_ZIP_LIMITS.maxUnpackedSize,
        maxCompressionRatio: c['max-compression-ratio'],
      },
      tlsCertFile: c['tls-cert'] ? path.resolve(c['tls-cert']) : null,
      tlsKeyFile: c['tls-key'] ? path.resolve(c['tls-key']) : null,
      adminApiKey,
      masterKey,
      healthCheckIntervalMs: c['health-check-interval'] * 1000,
      transferReconnectGraceMs: c['transfer-reconnect-grace'] * 1000,
      maxConcurrentTransfers: c['max-concurrent-transfers'],
      logLevel: c['log-level'],
    },
  };
}
