/**
 * A tiny JSON-lines logger: one `{"time","level","msg",...}` object per line. The tentacle
 * writes it to stderr; tests and the swarm benchmark pass their own sink. Never give it the
 * connect token or key material.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVEL_ORDER, value);
}

export interface JsonLoggerOptions {
  /** Receives one complete line, newline included. */
  write: (line: string) => void;
  level?: LogLevel;
  bindings?: LogFields;
  now?: () => Date;
}

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const threshold = LEVEL_ORDER[options.level ?? 'info'];
  const now = options.now ?? (() => new Date());
  const make = (bindings: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
      if (LEVEL_ORDER[level] < threshold) return;
      options.write(`${serialize({ time: now().toISOString(), level, msg, ...bindings, ...fields })}\n`);
    };
    return {
      debug: (msg, fields) => emit('debug', msg, fields),
      info: (msg, fields) => emit('info', msg, fields),
      warn: (msg, fields) => emit('warn', msg, fields),
      error: (msg, fields) => emit('error', msg, fields),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make(options.bindings ?? {});
}

/** A logger that drops everything (for callers that watch state changes instead). */
export function createSilentLogger(): Logger {
  const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => silent };
  return silent;
}

function serialize(entry: LogFields): string {
  try {
    return JSON.stringify(entry, replacer);
  } catch {
    return JSON.stringify({ time: entry.time, level: entry.level, msg: entry.msg, logError: 'fields could not be serialized' });
  }
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}
