import type { Task, TaskLogEntry, TaskTarget } from '@cuttle/shared';
import type { Io } from '../context.js';
import { formatBytes, formatDuration } from '../output.js';
import { countTargets, describeTarget, targetWhere, targetsByMachine } from '../task-view.js';
import type { WaitRenderer } from './wait-renderer.js';

/** At most this many machines are drawn; the rest are counted on one line. */
export const MAX_TARGET_ROWS = 15;
/** Lines of each machine's log kept to show when it fails. */
export const FAILURE_TAIL_LINES = 20;

/** Escape sequences and control characters of script output would break the redraw. */
export function terminalSafe(text: string): string {
  return text.replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '').replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ' ').replace(/\t/g, '  ');
}

/** Failed first, then what is still moving, then the rest; by name within each. */
const ROW_ORDER: Record<TaskTarget['state'], number> = { failed: 0, cancelled: 1, running: 2, waiting: 3, pending: 4, skipped: 5, success: 6 };

/**
 * On a terminal: a block on stderr with one row per machine (state, step and phase, bytes sent),
 * redrawn in place at each poll. When a machine fails, its last log lines are printed above the
 * block (and any that come later for it), and so are the hub's own lines about the task.
 */
export class TtyRenderer implements WaitRenderer {
  private drawnLines = 0;
  private task: Task | undefined;
  private readonly started: number;
  private readonly tails = new Map<string, string[]>();
  private readonly failed = new Set<string>();

  constructor(
    private readonly io: Io,
    private readonly taskId: number,
  ) {
    this.started = io.now();
  }

  onLog(entry: TaskLogEntry): void {
    const text = terminalSafe(entry.text);
    if (entry.machine === null) {
      // The hub's own lines are few and say what the whole task does (or waits for).
      this.above([entry.stream === 'info' ? `[hub] ${text}` : `[hub] ${entry.stream}: ${text}`]);
      return;
    }
    const line = `${entry.stream.padEnd(6)} ${text}`;
    if (this.failed.has(entry.machine)) {
      this.above([`  ${entry.machine} | ${line}`]);
      return;
    }
    const tail = this.tails.get(entry.machine) ?? [];
    tail.push(line);
    if (tail.length > FAILURE_TAIL_LINES) tail.shift();
    this.tails.set(entry.machine, tail);
  }

  onTask(task: Task, previous: Task | undefined): void {
    this.task = task;
    const before = targetsByMachine(previous);
    const lines: string[] = [];
    for (const target of task.targets) {
      if (target.state !== 'failed' || this.failed.has(target.machine)) continue;
      if (before.get(target.machine)?.state === 'failed') continue;
      this.failed.add(target.machine);
      lines.push(`${target.machine} ${describeTarget(target)}`);
      for (const line of this.tails.get(target.machine) ?? []) lines.push(`  ${target.machine} | ${line}`);
      this.tails.delete(target.machine);
    }
    if (lines.length > 0) this.above(lines);
    else this.draw();
  }

  end(): void {
    this.draw();
    this.drawnLines = 0;
  }

  /** Prints lines above the block, then draws the block again below them. */
  private above(lines: readonly string[]): void {
    this.clear();
    for (const line of lines) this.io.stderr.write(`${this.fit(line)}\n`);
    this.draw();
  }

  private clear(): void {
    if (this.drawnLines > 0) this.io.stderr.write(`\x1b[${this.drawnLines}A\r\x1b[J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    const block = this.block();
    if (block.length === 0) return;
    this.clear();
    this.io.stderr.write(block.map((line) => `${this.fit(line)}\n`).join(''));
    this.drawnLines = block.length;
  }

  private block(): string[] {
    const task = this.task;
    if (task === undefined) return [];
    const elapsed = formatDuration((this.io.now() - this.started) / 1000);
    const header = `task ${this.taskId} ${task.state}${task.cancelRequested ? ' (cancel requested)' : ''}: ${countTargets(task.targets)}  ${elapsed}`;
    const sorted = [...task.targets].sort((a, b) => ROW_ORDER[a.state] - ROW_ORDER[b.state] || (a.machine < b.machine ? -1 : a.machine > b.machine ? 1 : 0));
    const shown = sorted.slice(0, MAX_TARGET_ROWS);
    const nameWidth = Math.max(...shown.map((target) => target.machine.length), 7);
    const rows = shown.map((target) => {
      const sent = target.bytesSent === 0 ? '' : `  ${formatBytes(target.bytesSent)} sent`;
      const where = target.state === 'pending' ? '' : `  ${targetWhere(target)}`;
      return `  ${target.machine.padEnd(nameWidth)}  ${target.state.padEnd(9)}${where === '  -' ? '' : where}${sent}`;
    });
    const hidden = sorted.slice(MAX_TARGET_ROWS);
    if (hidden.length > 0) rows.push(`  ... and ${hidden.length} more (${countTargets(hidden)})`);
    return [header, ...rows];
  }

  /** Never wrap: a wrapped line would throw off the count of lines to redraw. */
  private fit(line: string): string {
    const columns = this.io.stderrColumns ?? 80;
    return line.length < columns ? line : `${line.slice(0, Math.max(1, columns - 2))}…`;
  }
}
