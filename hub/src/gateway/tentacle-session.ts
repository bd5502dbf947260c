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

export interface SessionEvents {
  /** The tentacle said hello with the right protocol: it is now online. */
  /** Returns what the hub's hello tells the tentacle, or null when the session was refused (and closed). */
  onReady(session: WebSocketSession, hello: Extract<TentacleMessage, { type: 'hello' }>): { roles: string[]; environments: string[] } | null;
  onClosed(session: WebSocketSession): void;
}

/** Invalid messages in a row after which the hub gives up on a connection. */
const MAX_INVALID_MESSAGES = 20;

/** One tentacle's websocket: hello, message validation, health checks, liveness. */
export class WebSocketSession implements TentacleSession {
  readonly connectedAt = new Date();
  /** Set by the heartbeat sweep; cleared by any pong or message. */
  awaitingPong = false;
  private ready = false;
  private invalidInARow = 0;
  private readonly helloTimer: NodeJS.Timeout;
  private readonly pendingChecks = new Map<string, { resolve: (r: HealthReport) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

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

  private send(message: HubMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    this.awaitingPong = false;
    const parsed = isBinary
      ? ({ ok: false, code: 'invalid-message', message: 'binary messages are not part of this protocol version' } as const)
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
    this.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, hubVersion: this.hubVersion, machine: { name: this.machineName, ...machine } });
  }

  private onClose(code: number, reason: string): void {
    clearTimeout(this.helloTimer);
    for (const [id, pending] of this.pendingChecks) {
      clearTimeout(pending.timer);
      pending.reject(new CuttleError('machine-offline', `${this.machineName} disconnected before answering the health check.`, { name: this.machineName }));
      this.pendingChecks.delete(id);
    }
    this.log.info({ machine: this.machineName, code, reason }, 'tentacle disconnected');
    this.events.onClosed(this);
  }
}
