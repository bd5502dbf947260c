import type { Job, TentacleMessage } from '@cuttle/shared';

export type InventoryMessage = Extract<TentacleMessage, { type: 'inventory' }>;

/**
 * One connection to the hub as the job side sees it. A job keeps the channel of the connection
 * that started it: once that connection closes, `send` drops everything (the hub has already
 * given up on the job) and `closed` is true.
 */
export interface HubChannel {
  /** Sends one message; false when the connection is gone. */
  send(message: TentacleMessage): boolean;
  readonly closed: boolean;
  /** Bytes queued on the socket and not yet written out (log senders hold back above a limit). */
  bufferedAmount(): number;
  /**
   * Stops reading from the socket until every pause is released (the receive side of package
   * backpressure). The returned function releases this pause; calling it twice does nothing.
   */
  pause(): () => void;
}

/**
 * What runs deployments on a tentacle. Optional in TentacleConnectionOptions: without one the
 * connection refuses jobs, which keeps it cheap for the swarm benchmark.
 */
export interface TentacleJobHandler {
  /** The hub's hello arrived on a new connection; resolves to what the inventory says. */
  attach(channel: HubChannel): Promise<Omit<InventoryMessage, 'type'>>;
  /** The connection closed: every job started on it is aborted. */
  detach(channel: HubChannel): void;
  start(channel: HubChannel, jobId: string, job: Job): void;
  cancel(channel: HubChannel, jobId: string, reason: string): void;
  packageAbort(channel: HubChannel, jobId: string, reason: string): void;
  /** One binary message (a package chunk), not yet decoded. */
  chunk(channel: HubChannel, message: Buffer): void;
}
