import type { Task, TaskLogEntry } from '@cuttle/shared';
import { formatLogEntry } from '@cuttle/shared';
import type { Io } from '../context.js';
import { printLine } from '../output.js';
import { describeTarget, targetsByMachine } from '../task-view.js';
import type { WaitRenderer } from './wait-renderer.js';

/** The first line names at most this many machines. */
const MAX_NAMED = 10;

/**
 * For CI logs (stdout is not a terminal): every log line as the hub formats it, as it arrives,
 * and one `target <machine>: <what>` line each time a target changes state or step.
 */
export class PlainRenderer implements WaitRenderer {
  constructor(
    private readonly io: Io,
    private readonly taskId: number,
  ) {}

  onLog(entry: TaskLogEntry): void {
    printLine(this.io, formatLogEntry(entry));
  }

  onTask(task: Task, previous: Task | undefined): void {
    if (previous === undefined) {
      const names = task.targets.map((target) => target.machine);
      const machines = names.length > MAX_NAMED ? `${names.slice(0, MAX_NAMED).join(', ')}, ...` : names.join(', ');
      printLine(this.io, `task ${this.taskId} ${task.state}: ${task.targets.length} target${task.targets.length === 1 ? '' : 's'}${machines === '' ? '' : ` (${machines})`}`);
    } else if (previous.state !== task.state && task.state !== 'success' && task.state !== 'failed' && task.state !== 'cancelled') {
      printLine(this.io, `task ${this.taskId} ${task.state}`);
    }
    const before = targetsByMachine(previous);
    for (const target of task.targets) {
      const old = before.get(target.machine);
      const fresh = old === undefined ? target.state !== 'pending' : old.state !== target.state || old.step !== target.step;
      if (fresh) printLine(this.io, `target ${target.machine}: ${describeTarget(target)}`);
    }
  }

  end(): void {}
}
