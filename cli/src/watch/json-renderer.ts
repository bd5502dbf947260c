import type { Task, TaskLogEntry } from '@cuttle/shared';
import type { Io } from '../context.js';
import { targetsByMachine } from '../task-view.js';
import { printJson } from '../output.js';
import type { WaitRenderer } from './wait-renderer.js';

/**
 * One JSON event per line on stdout: `{"event":"log",...entry}` for each log entry and
 * `{"event":"target",...target}` whenever anything of a target changed (state, step, phase,
 * bytes sent, error). The caller adds `created` before and `finished` after.
 */
export class JsonRenderer implements WaitRenderer {
  constructor(private readonly io: Io) {}

  onLog(entry: TaskLogEntry): void {
    printJson(this.io, { event: 'log', ...entry });
  }

  onTask(task: Task, previous: Task | undefined): void {
    const before = targetsByMachine(previous);
    for (const target of task.targets) {
      const old = before.get(target.machine);
      if (old !== undefined && JSON.stringify(old) === JSON.stringify(target)) continue;
      printJson(this.io, { event: 'target', ...target });
    }
  }

  end(): void {}
}
