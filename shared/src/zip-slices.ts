/**
 * Synchronous work in slices: extraction and inspection do much of their work in plain
 * synchronous loops (cheaper than a promise per small step), and give the event loop a turn
 * every few milliseconds, so that a process that extracts a package keeps answering its
 * connection (pings, cancel messages) meanwhile.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Longest the event loop is held by one slice of synchronous work. */
const SLICE_MS = 5;

/** The clock of one run of slices: `due` once the current slice has had its time. */
export class SliceClock {
  private until = performance.now() + SLICE_MS;

  get due(): boolean {
    return performance.now() >= this.until;
  }

  /** Gives the event loop a turn (I/O callbacks and timers run) and starts a new slice. */
  async nextSlice(): Promise<void> {
    await nextTurn();
    this.until = performance.now() + SLICE_MS;
  }

  /** Starts a new slice after the caller awaited something else that let the event loop run. */
  restart(): void {
    this.until = performance.now() + SLICE_MS;
  }
}

/**
 * Runs `step` over `items` in order: synchronous steps back to back for at most SLICE_MS,
 * then a turn of the event loop; a step that returns a promise is awaited and ends its slice.
 * The signal is checked before every slice (it can only change between them).
 */
export async function inSlices<T>(items: readonly T[], signal: AbortSignal | undefined, step: (item: T) => Promise<void> | undefined): Promise<void> {
  const clock = new SliceClock();
  for (let next = 0; next < items.length; ) {
    signal?.throwIfAborted();
    const pending = step(items[next++] as T);
    if (pending !== undefined) {
      await pending;
      clock.restart();
    } else if (next < items.length && clock.due) {
      await clock.nextSlice();
    }
  }
}
