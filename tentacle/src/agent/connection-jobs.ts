import WebSocket from 'ws';
import { JobIdSchema, type HubMessage, type TentacleMessage } from '@cuttle/shared';
import type { Logger } from '../log/logger.js';
import type { HubChannel, TentacleJobHandler } from './job-handler.js';
import { truncate } from './messages.js';

type JobMessage = Extract<HubMessage, { type: 'job-start' | 'job-cancel' | 'package-abort' }>;

/** The answer of a tentacle without a job handler (the swarm benchmark's connections). */
export const NO_DEPLOYMENTS = 'this tentacle does not run deployments';

/** The HubChannel of one websocket: sends while it is open, and counts pauses of its reading. */
class SocketChannel implements HubChannel {
  private pauses = 0;
  private isClosed = false;

  constructor(private readonly ws: WebSocket) {}

  get closed(): boolean {
    return this.isClosed || this.ws.readyState !== WebSocket.OPEN;
  }

  send(message: TentacleMessage): boolean {
    if (this.closed) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  pause(): () => void {
    if (this.isClosed) return () => {};
    if (this.pauses++ === 0) this.ws.pause();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.pauses === 0 && !this.isClosed) this.ws.resume();
    };
  }

  close(): void {
    this.isClosed = true;
  }
}

/**
 * The job side of one TentacleConnection: hands job messages and package chunks of the current
 * websocket to the optional job handler, sends the inventory after the hub's hello, and tells the
 * handler when the websocket is gone. Without a handler it refuses jobs politely.
 */
export class ConnectionJobs {
  private channel: SocketChannel | undefined;

  constructor(
    private readonly handler: TentacleJobHandler | undefined,
    private readonly log: Logger,
  ) {}

  /** The hub's hello arrived on `ws`: jobs may come now; the inventory goes out once read. */
  online(ws: WebSocket): void {
    this.closed();
    const channel = new SocketChannel(ws);
    this.channel = channel;
    const handler = this.handler;
    if (handler === undefined) return;
    handler.attach(channel).then(
      (inventory) => channel.send({ type: 'inventory', ...inventory }),
      (error: unknown) => this.log.error('cannot read the inventory of installed apps', { err: error }),
    );
  }

  /** The websocket closed (or is being replaced): every job started on it is aborted. */
  closed(): void {
    const channel = this.channel;
    if (channel === undefined) return;
    this.channel = undefined;
    channel.close();
    this.guard('detach', () => this.handler?.detach(channel));
  }

  /** A valid job message; `ws` must be the connection's current socket. */
  message(ws: WebSocket, message: JobMessage): void {
    const channel = this.channel;
    if (channel === undefined) {
      sendTo(ws, errorMessage('unexpected-message', `"${message.type}" before the hub's hello`, message.jobId));
      return;
    }
    const handler = this.handler;
    if (handler === undefined) {
      if (message.type === 'job-start') channel.send(refusal(message.jobId, NO_DEPLOYMENTS));
      else channel.send(errorMessage('unknown-job', `no job ${message.jobId} runs here: ${NO_DEPLOYMENTS}`, message.jobId));
      return;
    }
    this.guard(message.type, () => {
      if (message.type === 'job-start') handler.start(channel, message.jobId, message.job);
      else if (message.type === 'job-cancel') handler.cancel(channel, message.jobId, message.reason);
      else handler.packageAbort(channel, message.jobId, message.reason);
    });
  }

  /** A binary message: a package chunk for a job waiting for bytes. */
  binary(ws: WebSocket, data: Buffer): void {
    const channel = this.channel;
    if (channel === undefined || this.handler === undefined) {
      sendTo(ws, errorMessage('invalid-message', channel === undefined ? "binary frames before the hub's hello" : `binary frames carry packages, and ${NO_DEPLOYMENTS}`));
      return;
    }
    const handler = this.handler;
    this.guard('chunk', () => handler.chunk(channel, data));
  }

  /**
   * An invalid message that is a job-start with a readable job id gets a failed job-result
   * `invalid-job`, so the hub's job ends at once; true when it was one.
   */
  refuseMalformedJobStart(ws: WebSocket, text: string, problem: string): boolean {
    const jobId = jobStartIdOf(text);
    if (jobId === undefined) return false;
    sendTo(ws, refusal(jobId, problem));
    return true;
  }

  /** A fault in the job side is logged and never crashes the connection or the process. */
  private guard(what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.log.error('the job handler failed', { what, err: error });
    }
  }
}

function sendTo(ws: WebSocket, message: TentacleMessage): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function refusal(jobId: string, message: string): TentacleMessage {
  return {
    type: 'job-result',
    jobId,
    outcome: 'failed',
    error: { code: 'invalid-job', message: truncate(message, 2048) },
    bytesReceived: 0,
    releaseDir: null,
  };
}

function errorMessage(code: string, message: string, replyTo?: string): TentacleMessage {
  return { type: 'error', code, message: truncate(message, 1024), ...(replyTo === undefined ? {} : { replyTo }) };
}

function jobStartIdOf(text: string): string | undefined {
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json !== 'object' || json === null) return undefined;
    const record = json as Record<string, unknown>;
    if (record.type !== 'job-start') return undefined;
    const parsed = JobIdSchema.safeParse(record.jobId);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
