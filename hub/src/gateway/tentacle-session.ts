import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import {
  CLOSE_CODES,
  CuttleError,
  type HubMessage,
  PROTOCOL_LIMITS,
  PROTOCOL_VERSION,
  TentacleMessageSchema,
  parseMessage,
  type TentacleMessage,
} from '@cuttle/shared';
import type { TentacleSession } from '../machines/connection-registry.js';
import type { HealthReport } from '../machines/machine-service.js';

/** The messages about jobs a tentacle sends once it is online; the gateway's job runner handles them. */
export type JobMessage = Extract<TentacleMessage, { type: 'job-status' | 'job-log' | 'package-request' | 'job-result' | 'inventory' }>;

const JOB_MESSAGE_TYPES: ReadonlySet<string> = new Set<JobMessage['type']>(['job-status', 'job-log', 'package-request', 'job-result', 'inventory']);
const isJobMessage = (message: TentacleMessage): message is JobMessage => JOB_MESSAGE_TYPES.has(message.type);

export interface SessionEvents {
  /** The tentacle said hello with the right protocol. Returns what the hub's hello tells the tentacle, or null when the session was refused (and closed). */
  onReady(session: WebSocketSession, hello: Extract<TentacleMessage, { type: 'hello' }>): { roles: string[]; environments: string[] } | null;
  /** The hub's hello went out: jobs may be sent on this session from now on. */
  onOnline(session: WebSocketSession): void;
  /** A valid job message arrived on an online session. */
  onJobMessage(session: WebSocketSession, message: JobMessage): void;
  onClosed(session: WebSocketSession): void;
}

/** Invalid messages in a row after which the hub gives up on a connection. */
const MAX_INVALID_MESSAGES = 20;

/** One tentacle's websocket: hello, message validation, health checks, liveness, and the send side of jobs. */
export class WebSocketSession implements TentacleSession {
  readonly connectedAt = new Date();
  /** Set by the heartbeat sweep; cleared by any pong or message. */
  awaitingPong = false;
  /** The most bytes the socket held unsent right after a chunk was queued (what backpressure bounds). */
  peakBufferedBytes = 0;
  private ready = false;
  private online = false;
  private closed = false;
  private invalidInARow = 0;
  private readonly helloTimer: NodeJS.Timeout;
  private readonly pendingChecks = new Map<string, { resolve: (r: HealthReport) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private drainWaiters: Array<{ below: number; resolve: () => void }> = [];

  constructor(
    readonly machineName: string,
    private readonly socket: WebSocket,
    private readonly hubVersion: string,
    private readonly events: SessionEvents,
    private readonly log: Logger,
  ) {
    this.helloTimer = setTimeout(() => this.close(CLOSE_CODES.helloTimeout, 'no hello within the time allowed'), PROTOCOL_LIMITS.helloTimeoutMs);
    socket.on('message', (data, isBinary) => this.guard('message', () => this.onMessage(data, isBinary)));
    socket.on('pong', () => (this.awaitingPong = false));
    socket.on('close', (code, reason) => this.guard('close', () => this.onClose(code, reason.toString())));
    socket.on('error', (error) => this.log.debug({ machine: machineName, err: error }, 'tentacle socket error'));
  }

  /** Online: the hello exchange is done and the socket has not closed. */
  get isOnline(): boolean {
    return this.online && !this.closed;
  }

  /** Bytes queued on the socket and not yet written out. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** A fault while handling one connection's event closes that connection, never the process. */
  private guard(event: string, handle: () => void): void {
    try {
      handle();
    } catch (error) {
      this.log.error({ machine: this.machineName, event, err: error }, 'failed to handle a tentacle event');
      if (event !== 'close') this.close(1011, 'the hub failed to handle a message');
    }
  }

  /** Called by the heartbeat sweep: a peer that did not answer the last ping is dropped. */
  heartbeat(): void {
    if (this.awaitingPong) {
      this.log.warn({ machine: this.machineName }, 'tentacle missed a heartbeat; dropping the connection');
      this.socket.terminate();
      return;
    }
    this.awaitingPong = true;
    this.socket.ping();
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
    // a peer that does not complete the closing handshake is cut off
    setTimeout(() => this.socket.terminate(), 5_000).unref();
  }

  healthCheck(timeoutMs: number): Promise<HealthReport> {
    const id = randomBytes(8).toString('hex');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingChecks.delete(id);
        reject(new CuttleError('health-check-timeout', `${this.machineName} did not answer the health check within ${timeoutMs / 1000} s.`, { name: this.machineName }));
      }, timeoutMs);
      this.pendingChecks.set(id, { resolve, reject, timer });
      this.send({ type: 'health-check', id });
    });
  }

  /** Sends a control message; false when the socket is no longer open (its close event follows). */
  send(message: HubMessage): boolean {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return false;
    this.socket.send(JSON.stringify(message), (error) => this.afterWrite(error));
    return true;
  }

  /**
   * Queues one binary message (a package chunk); `written` is called once ws has handed it to the
   * socket, with an error if the socket closed first. False when the socket is no longer open.
   */
  sendBinary(data: Buffer, written: (error: Error | undefined) => void): boolean {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return false;
    this.socket.send(data, { binary: true }, (error) => {
      this.afterWrite(error);
      written(error ?? undefined);
    });
    this.peakBufferedBytes = Math.max(this.peakBufferedBytes, this.socket.bufferedAmount);
    return true;
  }

  /**
   * Resolves once the socket holds at most `below` unsent bytes, or has closed. ws has no drain
   * event, so every write callback (which runs as the socket takes a message) checks the waiters.
   */
  waitForDrain(below: number): Promise<void> {
    if (this.closed || this.socket.bufferedAmount <= below) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push({ below, resolve }));
  }

  private afterWrite(error: Error | null | undefined): void {
    if (error) this.log.debug({ machine: this.machineName, err: error }, 'a write to the tentacle failed');
    if (this.drainWaiters.length === 0) return;
    const buffered = this.socket.bufferedAmount;
    const waiting = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiting) {
      if (this.closed || buffered <= waiter.below) waiter.resolve();
      else this.drainWaiters.push(waiter);
    }
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    this.awaitingPong = false;
    const size = Array.isArray(data) ? data.reduce((sum, piece) => sum + piece.length, 0) : data.byteLength;
    const parsed = isBinary
      ? ({ ok: false, code: 'invalid-message', message: 'a tentacle sends no binary messages' } as const)
      : size > PROTOCOL_LIMITS.maxControlMessageBytes
        ? ({ ok: false, code: 'invalid-message', message: `a control message may have at most ${PROTOCOL_LIMITS.maxControlMessageBytes} bytes` } as const)
        : parseMessage(TentacleMessageSchema, data.toString());
    if (!parsed.ok) {
      this.invalidInARow++;
      this.log.warn({ machine: this.machineName, reason: parsed.message }, 'invalid message from tentacle');
      if (this.invalidInARow >= MAX_INVALID_MESSAGES) {
        this.close(CLOSE_CODES.invalidMessage, 'too many invalid messages');
        return;
      }
      this.send({ type: 'error', code: parsed.code, message: parsed.message });
      return;
    }
    this.invalidInARow = 0;
    const message = parsed.message;
    if (isJobMessage(message)) {
      if (!this.isOnline) {
        const replyTo = 'jobId' in message ? { replyTo: message.jobId } : {};
        this.send({ type: 'error', code: 'invalid-message', message: `"${message.type}" is only accepted after the hello exchange`, ...replyTo });
        return;
      }
      this.events.onJobMessage(this, message);
      return;
    }
    switch (message.type) {
      case 'hello':
        this.onHello(message);
        return;
      case 'health-report': {
        const pending = this.pendingChecks.get(message.id);
        if (!pending) return;
        clearTimeout(pending.timer);
        this.pendingChecks.delete(message.id);
        pending.resolve({ freeDiskBytes: message.freeDiskBytes, uptimeSeconds: message.uptimeSeconds });
        return;
      }
      case 'error':
        this.log.warn({ machine: this.machineName, code: message.code, message: message.message }, 'tentacle reported an error');
        return;
    }
  }

  private onHello(hello: Extract<TentacleMessage, { type: 'hello' }>): void {
    if (this.ready) {
      this.send({ type: 'error', code: 'invalid-message', message: 'hello was already received on this connection' });
      return;
    }
    clearTimeout(this.helloTimer);
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      const reason = `protocol version mismatch: hub speaks ${PROTOCOL_VERSION}, tentacle ${hello.protocolVersion}`;
      this.log.warn({ machine: this.machineName, tentacleVersion: hello.tentacleVersion }, reason);
      this.send({ type: 'error', code: 'protocol-mismatch', message: `${reason}; upgrade the tentacle or the hub` });
      this.close(CLOSE_CODES.protocolMismatch, reason);
      return;
    }
    this.ready = true;
    const machine = this.events.onReady(this, hello);
    if (!machine) return;
    if (!this.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, hubVersion: this.hubVersion, machine: { name: this.machineName, ...machine } })) return;
    this.online = true;
    this.events.onOnline(this);
  }

  private onClose(code: number, reason: string): void {
    this.closed = true;
    clearTimeout(this.helloTimer);
    for (const waiter of this.drainWaiters.splice(0)) waiter.resolve();
    for (const [id, pending] of this.pendingChecks) {
      clearTimeout(pending.timer);
      pending.reject(new CuttleError('machine-offline', `${this.machineName} disconnected before answering the health check.`, { name: this.machineName }));
      this.pendingChecks.delete(id);
    }
    this.log.info({ machine: this.machineName, code, reason }, 'tentacle disconnected');
    this.events.onClosed(this);
  }
}
