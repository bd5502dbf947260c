import type { Task } from '@cuttle/shared';
import type { Io } from '../context.js';
import { JsonRenderer } from './json-renderer.js';
import { PlainRenderer } from './plain-renderer.js';
import type { WatchListener } from './task-watch.js';
import { TtyRenderer } from './tty-renderer.js';

/** Shows a task while it is waited for; `end` is called once whatever way the wait ends. */
export interface WaitRenderer extends WatchListener {
  /** The wait is over: finish the display (the summary is the caller's). */
  end(task: Task | undefined): void;
}

/** JSON events with --json, a progress display redrawn in place on a terminal, plain lines otherwise. */
export function createWaitRenderer(io: Io, json: boolean, taskId: number): WaitRenderer {
  if (json) return new JsonRenderer(io);
  if (io.stderrIsTty) return new TtyRenderer(io, taskId);
  return new PlainRenderer(io, taskId);
}
