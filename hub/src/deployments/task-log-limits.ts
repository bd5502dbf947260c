/** How much of a target's own output (its scripts' stdout and stderr) a task log keeps. */
export interface TaskLogLimits {
  linesPerTarget: number;
  /** UTF-8 bytes of line text */
  bytesPerTarget: number;
}

/** Past either limit a target's further output is dropped and counted; the hub's own lines are always kept. */
export const TASK_LOG_LIMITS: TaskLogLimits = { linesPerTarget: 100_000, bytesPerTarget: 50 * 1024 * 1024 };

export function describeLimits(limits: TaskLogLimits): string {
  const size =
    limits.bytesPerTarget % (1024 * 1024) === 0 ? `${limits.bytesPerTarget / (1024 * 1024)} MiB` : `${limits.bytesPerTarget.toLocaleString('en-US')} bytes`;
  return `limit ${limits.linesPerTarget.toLocaleString('en-US')} lines or ${size} of output per target`;
}

/**
 * One target's share of its task's log: keeps lines until a limit is reached, then counts the
 * dropped ones so that the log can say how many are missing. The target's outcome is untouched.
 */
export class TargetLogBudget {
  private lines = 0;
  private bytes = 0;
  private dropped = 0;
  private reported = 0;

  constructor(private readonly limits: TaskLogLimits = TASK_LOG_LIMITS) {}

  /** The lines to store, and whether these are the first to be dropped (the log then says so once). */
  admit<T extends { text: string }>(lines: readonly T[]): { kept: T[]; firstDrop: boolean } {
    const before = this.dropped;
    const kept: T[] = [];
    for (const line of lines) {
      if (this.dropped > 0) {
        this.dropped++;
        continue;
      }
      const bytes = Buffer.byteLength(line.text);
      if (this.lines + 1 > this.limits.linesPerTarget || this.bytes + bytes > this.limits.bytesPerTarget) {
        this.dropped++;
        continue;
      }
      this.lines++;
      this.bytes += bytes;
      kept.push(line);
    }
    return { kept, firstDrop: before === 0 && this.dropped > 0 };
  }

  /** The notice stored when output starts being dropped. */
  truncationNotice(): string {
    return `output truncated: further output of this target is dropped (${describeLimits(this.limits)})`;
  }

  /** The summary of the lines dropped since the last one, or null when none were. */
  takeSummary(): string | null {
    const count = this.dropped - this.reported;
    if (count === 0) return null;
    this.reported = this.dropped;
    return `output truncated: ${count.toLocaleString('en-US')} more line${count === 1 ? '' : 's'} dropped (${describeLimits(this.limits)})`;
  }
}
