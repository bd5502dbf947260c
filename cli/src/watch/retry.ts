import { EXIT } from '@cuttle/shared';
import { CliError } from '../cli-error.js';
import type { Io } from '../context.js';

/** How a long wait for a task paces itself; tests shorten every one of these. */
export interface WatchTiming {
  /** How often the task (its state and targets) is asked for. */
  pollIntervalMs: number;
  /** First pause before asking again after a failed request; it doubles up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Once the task has ended, how long its log stream may take to end before the rest is fetched at once. */
  drainMs: number;
  /** A followed log silent for this long is opened again (from the last entry): a half-open connection never ends otherwise. */
  streamIdleMs: number;
}

export const DEFAULT_WATCH_TIMING: WatchTiming = {
  pollIntervalMs: 1_000,
  retryBaseMs: 250,
  retryMaxMs: 5_000,
  drainMs: 5_000,
  streamIdleMs: 120_000,
};

/** The pause before retry number `attempt` (0 first). */
export function backoffMs(attempt: number, timing: WatchTiming): number {
  return Math.min(timing.retryMaxMs, timing.retryBaseMs * 2 ** Math.min(attempt, 20));
}

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A sleep that another part can cut short; a wake while nobody sleeps makes the next sleep return at once. */
export class Waker {
  private wakeSleeper: (() => void) | undefined;
  private pending = false;

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    const inner = new AbortController();
    const stop = (): void => inner.abort();
    signal.addEventListener('abort', stop, { once: true });
    this.wakeSleeper = stop;
    return sleep(ms, inner.signal).finally(() => {
      signal.removeEventListener('abort', stop);
      this.wakeSleeper = undefined;
    });
  }

  wake(): void {
    if (this.wakeSleeper === undefined) this.pending = true;
    else this.wakeSleeper();
  }
}

/** Hub statuses that mean "not now" (a proxy in front of a restarting hub), not "no". */
const TRANSIENT_STATUSES = new Set([502, 503, 504]);

/** Worth asking again: the hub could not be reached, or a proxy said it is unavailable. */
export function isTransient(error: unknown): error is CliError {
  if (!(error instanceof CliError)) return false;
  if (error.status !== undefined) return TRANSIENT_STATUSES.has(error.status);
  return error.exitCode === EXIT.unreachable;
}

/**
 * When the hub was last heard from. A wait rides out a hub that is away for less than
 * `limitMs` (a restart, a dropped connection); after that it gives up with exit 3.
 */
export class Liveness {
  private last: number;

  constructor(
    private readonly io: Io,
    private readonly limitMs: number,
    private readonly what: string,
  ) {
    this.last = io.now();
  }

  touch(): void {
    this.last = this.io.now();
  }

  /** Throws (exit 3) when nothing came from the hub for the limit; otherwise returns so that the caller retries. */
  check(error: CliError): void {
    if (this.io.now() - this.last < this.limitMs) return;
    throw new CliError(error.code, `no answer from the hub for ${this.limitMs / 1000} s while ${this.what}; gave up: ${error.message}`, {
      exitCode: EXIT.unreachable,
      details: { ...error.details, limitMs: this.limitMs },
      cause: error,
    });
  }
}
