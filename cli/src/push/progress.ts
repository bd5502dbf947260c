import type { Io } from '../context.js';
import { formatBytes, printJson } from '../output.js';

/** Redraws (TTY bar, JSON events) happen at most this often. */
export const PROGRESS_INTERVAL_MS = 100;
/** Without a TTY, one plain line at each of these percentages. */
export const PLAIN_STEPS = [25, 50, 75, 100] as const;

export interface ProgressReporter {
  /** `sent` bytes of `total` have gone out. */
  update(sent: number): void;
  /** The transfer is over (successfully or not): finish the bar's line. */
  end(): void;
}

export interface ProgressTarget {
  io: Io;
  json: boolean;
}

/** JSON events with --json, a bar redrawn in place on a TTY, plain lines otherwise. */
export function createProgressReporter(target: ProgressTarget, file: string, total: number): ProgressReporter {
  if (target.json) return new JsonProgress(target.io, file, total);
  if (target.io.stderrIsTty) return new BarProgress(target.io, file, total);
  return new PlainProgress(target.io, file, total);
}

function percent(sent: number, total: number): number {
  return total === 0 ? 100 : Math.floor((sent / total) * 100);
}

function mibPerSecond(bytes: number, elapsedMs: number): string {
  if (elapsedMs <= 0) return '- MiB/s';
  return `${(bytes / (1024 * 1024) / (elapsedMs / 1000)).toFixed(1)} MiB/s`;
}

/** `{"event":"progress","file","sent","total"}` on stdout, throttled; the last one always. */
class JsonProgress implements ProgressReporter {
  private last = Number.NEGATIVE_INFINITY;
  private lastSent = -1;
  constructor(
    private readonly io: Io,
    private readonly file: string,
    private readonly total: number,
  ) {}
  update(sent: number): void {
    const now = this.io.now();
    if (sent !== this.total && now - this.last < PROGRESS_INTERVAL_MS) return;
    if (sent === this.lastSent) return;
    this.last = now;
    this.lastSent = sent;
    printJson(this.io, { event: 'progress', file: this.file, sent, total: this.total });
  }
  end(): void {}
}

/** `pushing X.zip: 25% (3.1 MiB of 12.3 MiB)` lines on stderr, for logs of CI servers. */
class PlainProgress implements ProgressReporter {
  private step = 0;
  private readonly started: number;
  constructor(
    private readonly io: Io,
    private readonly file: string,
    private readonly total: number,
  ) {
    this.started = io.now();
  }
  update(sent: number): void {
    const done = percent(sent, this.total);
    let reached: number | undefined;
    while (this.step < PLAIN_STEPS.length && done >= (PLAIN_STEPS[this.step] ?? Infinity)) {
      reached = PLAIN_STEPS[this.step];
      this.step++;
    }
    if (reached === undefined) return;
    const rate = mibPerSecond(sent, this.io.now() - this.started);
    this.io.stderr.write(`pushing ${this.file}: ${reached}% (${formatBytes(sent)} of ${formatBytes(this.total)}, ${rate})\n`);
  }
  end(): void {}
}

/** One line on stderr redrawn in place: `pushing X.zip [#####-----]  45%  5.6 MiB/12.3 MiB  8.1 MiB/s`. */
class BarProgress implements ProgressReporter {
  private last = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly started: number;
  constructor(
    private readonly io: Io,
    private readonly file: string,
    private readonly total: number,
  ) {
    this.started = io.now();
  }
  update(sent: number): void {
    const now = this.io.now();
    if (sent !== this.total && now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    this.draw(sent, now);
  }
  end(): void {
    if (this.drawn) this.io.stderr.write('\n');
    this.drawn = false;
  }
  private draw(sent: number, now: number): void {
    const done = percent(sent, this.total);
    const columns = this.io.stderrColumns ?? 80;
    const tail = ` ${String(done).padStart(3)}%  ${formatBytes(sent)}/${formatBytes(this.total)}  ${mibPerSecond(sent, now - this.started)}`;
    const head = `pushing ${this.file} `;
    const width = Math.max(10, Math.min(30, columns - head.length - tail.length - 3));
    const filled = Math.round((width * done) / 100);
    const line = `${head}[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`;
    // Never wrap: a wrapped line cannot be redrawn with \r.
    this.io.stderr.write(`\r${line.slice(0, Math.max(1, columns - 1))}\x1b[K`);
    this.drawn = true;
  }
}
