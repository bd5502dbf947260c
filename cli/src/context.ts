import { invalidOption } from './cli-error.js';

/** Where a command writes and what it knows about its terminal. `main` builds it from `process`. */
export interface Io {
  stdout: TextSink;
  stderr: TextSink;
  /** Whether stderr is a terminal (progress bars are drawn only then). */
  stderrIsTty: boolean;
  /** Width of the stderr terminal, when known. */
  stderrColumns?: number;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Milliseconds, monotonic enough for rates and throttling. */
  now(): number;
  /** Milliseconds since the epoch (the wall clock), for "last seen 12 s ago". */
  wallClock(): number;
  /** Standard input, opened on first use: only `--value-stdin` reads it. */
  stdin?(): StdinSource;
}

export type StdinSource = AsyncIterable<Buffer | string> & { isTTY?: boolean };

export interface TextSink {
  write(text: string): unknown;
}

export const DEFAULT_HUB_URL = 'http://localhost:8080';
/** Seconds without any progress (connect, send or receive) before a request is given up. */
export const DEFAULT_TIMEOUT_SECONDS = 60;

/** The global options as commander hands them over, before defaults and env are applied. */
export interface RawGlobalOptions {
  hub?: string;
  apiKey?: string;
  json?: boolean;
  timeout?: string;
}

export interface GlobalOptions {
  hubUrl: URL;
  apiKey: string | undefined;
  json: boolean;
  timeoutMs: number;
}

/** Flag, then environment variable, then default. Validates the hub URL and the timeout. */
export function resolveGlobalOptions(raw: RawGlobalOptions, env: Io['env']): GlobalOptions {
  const hub = raw.hub ?? nonEmpty(env.CUTTLE_HUB) ?? DEFAULT_HUB_URL;
  const apiKey = nonEmpty(raw.apiKey) ?? nonEmpty(env.CUTTLE_API_KEY);
  const timeoutText = raw.timeout ?? nonEmpty(env.CUTTLE_TIMEOUT);
  if (apiKey !== undefined && !/^[\x21-\x7e]+$/.test(apiKey)) {
    // Never echo the key itself.
    throw invalidOption('the API key has characters that cannot go into an HTTP header (spaces, control or non-ASCII characters).', {});
  }
  return {
    hubUrl: parseHubUrl(hub),
    apiKey,
    json: raw.json === true,
    timeoutMs: timeoutText === undefined ? DEFAULT_TIMEOUT_SECONDS * 1000 : parseTimeout(timeoutText),
  };
}

/** The request timeout from CUTTLE_TIMEOUT, or the default (for commands whose --timeout means something longer). */
export function requestTimeoutFromEnv(env: Io['env']): number {
  const text = nonEmpty(env.CUTTLE_TIMEOUT);
  return text === undefined ? DEFAULT_TIMEOUT_SECONDS * 1000 : parseTimeout(text);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function parseHubUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidOption(`--hub "${text}" is not a URL; use for example http://hub.example.com:8080.`, { hub: text });
  }
  if (url.username !== '' || url.password !== '') {
    throw invalidOption('--hub must not carry credentials; use --api-key or CUTTLE_API_KEY.', {});
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidOption(`--hub "${text}" must start with http:// or https://.`, { hub: text });
  }
  if (url.search !== '' || url.hash !== '') {
    throw invalidOption(`--hub "${text}" must not have a query or a fragment.`, { hub: text });
  }
  return url;
}

/** `--timeout` seconds as milliseconds: more than 0, at most a day. */
export function parseTimeout(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 24 * 3600) {
    throw invalidOption(`--timeout "${text}" is not a number of seconds between 0 and 86400.`, { timeout: text });
  }
  return Math.round(seconds * 1000);
}
