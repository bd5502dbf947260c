/** Package transfers that stream at once, over all connections, unless configured otherwise. */
export const DEFAULT_MAX_CONCURRENT_TRANSFERS = 4;

/**
 * A hub-wide cap on package transfers that stream at once. A transfer asked for while every slot
 * is taken waits in line (first come, first served) and starts when one frees up.
 */
export class TransferSlots {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`a transfer limit must be at least 1, not ${limit}`);
  }

  /** Transfers holding a slot now. */
  get running(): number {
    return this.active;
  }

  /** Transfers waiting in line. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Calls `start` once a slot is free: at once when one is and nobody waits, else in turn. The
   * release, given to `start` and returned, frees the slot once started, or gives up the place in
   * line before; calling it again does nothing.
   */
  request(start: (release: () => void) => void): () => void {
    let state: 'queued' | 'started' | 'ended' = 'queued';
    const begin = () => {
      state = 'started';
      this.active++;
      start(release);
    };
    const release = () => {
      const was = state;
      state = 'ended';
      if (was === 'started') {
        this.active--;
        this.next();
      } else if (was === 'queued') {
        const at = this.queue.indexOf(begin);
        if (at >= 0) this.queue.splice(at, 1);
      }
    };
    if (this.active < this.limit && this.queue.length === 0) begin();
    else this.queue.push(begin);
    return release;
  }

  private next(): void {
    if (this.active < this.limit) this.queue.shift()?.();
  }
}
