import WebSocket from 'ws';
import {
  backoffDelayMs,
  CLOSE_CODES,
  HubMessageSchema,
  parseMessage,
  PROTOCOL_LIMITS,
  PROTOCOL_VERSION,
  receivedBuffers,
  TENTACLE_CONNECT_PATH,
  type HubMessage,
  type OsInfo,
  type TentacleMessage,
} from '@cuttle/shared';
import type { Logger } from '../log/logger.js';
import { parseHubUrl, type HubEndpoint } from '../net/hub-url.js';
import { describeNetworkFailure, type NetworkFailure } from '../net/network-failure.js';
import { closeCodeName, closeReason } from './close-codes.js';
import { ConnectionJobs } from './connection-jobs.js';
import { explainConnectFailure, websocketOptions } from './connect-attempt.js';
import { AGENT_DEFAULTS, type ConnectionState, type ConnectionStateChange, type TentacleConnectionOptions } from './connection-options.js';
import { signConnectToken } from './connect-token.js';
import { hubProtocolVersionOf, rawDataSize, rawDataToBuffer, rawDataToText, truncate } from './messages.js';
import { freeDiskBytes, readOsInfo } from './system-info.js';

type HelloMessage = Extract<TentacleMessage, { type: 'hello' }>;

/**
 * One tentacle's connection to the hub: connect with a fresh JWT, hello both ways,
 * heartbeat, dispatch of the hub's messages, reconnect forever with backoff. Holds no global
 * state and installs no process handlers, so one process can run many of them.
 */
export class TentacleConnection {
  private readonly endpoint: HubEndpoint;
  private readonly connectUrl: string;
  private readonly log: Logger;
  private readonly osInfo: OsInfo;
  private readonly heartbeatIntervalMs: number;
  private readonly helloTimeoutMs: number;
  private readonly handshakeTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly jobs: ConnectionJobs;
  /** When the tentacle was last online (or started): the backoff never waits more than half of that. */
  private offlineSince = 0;

  private state: ConnectionState = 'idle';
  private attempt = 0;
  private ws: WebSocket | undefined;
  // per-socket state, reset on every connect
  private opened = false;
  private helloReceived = false;
  private alive = false;
  private lastError: unknown;
  private closedByUs: string | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private stopWaiters: Array<() => void> = [];

  constructor(private readonly options: TentacleConnectionOptions) {
    this.endpoint = parseHubUrl(options.hubUrl);
    this.connectUrl = `${this.endpoint.origin}${TENTACLE_CONNECT_PATH}`;
    this.log = options.log;
    this.osInfo = options.osInfo ?? readOsInfo();
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? PROTOCOL_LIMITS.heartbeatIntervalMs;
    this.helloTimeoutMs = options.helloTimeoutMs ?? PROTOCOL_LIMITS.helloTimeoutMs;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? AGENT_DEFAULTS.handshakeTimeoutMs;
    this.stopTimeoutMs = options.stopTimeoutMs ?? AGENT_DEFAULTS.stopTimeoutMs;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.jobs = new ConnectionJobs(options.jobs, this.log);
  }

  get currentState(): ConnectionState {
    return this.state;
  }

  /** Starts connecting; from here on the connection keeps itself up until stop(). */
  start(): void {
    if (this.state !== 'idle') return;
    void this.connect();
  }

  /** Closes the websocket with 1000, stops every timer, and resolves once the socket is gone. */
  stop(): Promise<void> {
    if (this.state === 'stopped') return Promise.resolve();
    if (this.state === 'idle') {
      this.setState({ state: 'stopped', attempt: this.attempt });
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    if (this.state === 'stopping') return done;
    this.setState({ state: 'stopping', attempt: this.attempt });
    clearTimeout(this.reconnectTimer);
    this.clearSocketTimers();
    const ws = this.ws;
    if (ws === undefined) {
      this.finishStop(); // between tries, or a connect still preparing its token
    } else if (ws.readyState === WebSocket.OPEN) {
      this.closedByUs = 'the tentacle is stopping';
      ws.close(1000, 'tentacle stopping');
      this.stopTimer = setTimeout(() => ws.terminate(), this.stopTimeoutMs);
    } else {
      ws.terminate(); // still connecting (or already closing): drop it, 'close' follows
    }
    return done;
  }

  private async connect(): Promise<void> {
    this.setState({ state: 'connecting', attempt: this.attempt });
    const freeDisk = await freeDiskBytes(this.options.homeDir);
    if (this.state !== 'connecting') return; // stopped meanwhile
    let token: string;
    try {
      token = signConnectToken(this.options.identity);
    } catch (error) {
      this.scheduleReconnect('cannot sign the connect token', 'other', (retryInMs) =>
        this.log.error('cannot sign the connect token with the tentacle key', { err: error, retryInMs }),
      );
      return;
    }
    const wsOptions = websocketOptions(this.options.tls, this.endpoint, token, this.handshakeTimeoutMs);
    this.opened = false;
    this.helloReceived = false;
    this.alive = true;
    this.lastError = undefined;
    this.closedByUs = undefined;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.connectUrl, wsOptions);
    } catch (error) {
      const failure = describeNetworkFailure(error, this.endpoint.origin);
      this.scheduleReconnect(failure.message, 'other', (retryInMs) => this.log.error('cannot open a websocket', { reason: failure.message, retryInMs }));
      return;
    }
    this.ws = ws;
    ws.on('open', () => this.onOpen(ws, freeDisk));
    ws.on('message', (data, isBinary) => this.onMessage(ws, data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('ping', () => {
      this.alive = true;
    });
    ws.on('error', (error) => {
      if (ws === this.ws) this.lastError = error;
    });
    ws.on('close', (code, reason) => void this.onClose(ws, code, reason.toString('utf8')));
  }

  private onOpen(ws: WebSocket, freeDisk: number | null): void {
    if (ws !== this.ws) return;
    this.opened = true;
    this.setState({ state: 'handshaking', attempt: this.attempt });
    const hello: HelloMessage = {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      tentacleVersion: truncate(this.options.version, 64),
      os: this.osInfo,
      freeDiskBytes: freeDisk,
    };
    this.send(ws, hello);
    this.helloTimer = setTimeout(() => {
      const seconds = this.helloTimeoutMs / 1000;
      this.log.warn('the hub sent no hello in time; dropping the connection', { timeoutSeconds: seconds });
      this.closeWith(ws, CLOSE_CODES.helloTimeout, `no hello from the hub within ${seconds} s`);
    }, this.helloTimeoutMs);
    this.heartbeatTimer = setInterval(() => this.heartbeat(ws), this.heartbeatIntervalMs);
  }

  private heartbeat(ws: WebSocket): void {
    if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return;
    if (!this.alive) {
      this.closedByUs = `the hub did not answer a ping within ${this.heartbeatIntervalMs} ms`;
      this.log.warn('the hub stopped answering pings; dropping the connection', { heartbeatIntervalMs: this.heartbeatIntervalMs });
      ws.terminate();
      return;
    }
    this.alive = false;
    ws.ping();
  }

  private onMessage(ws: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    // once we are closing (stop, mismatch, timeout), late messages change nothing
    if (ws !== this.ws || this.closedByUs !== undefined) return;
    this.alive = true;
    if (isBinary) {
      // A package chunk came as TLS's cleartext pieces, then as the message ws assembled from
      // them: twice its size in buffers of their own, collected young rather than by full GCs.
      receivedBuffers.received(2 * rawDataSize(data));
      this.jobs.binary(ws, rawDataToBuffer(data));
      return;
    }
    // maxPayload admits package chunks; control messages keep their own, smaller limit
    if (rawDataSize(data) > PROTOCOL_LIMITS.maxControlMessageBytes) {
      this.log.warn('the hub sent an oversized control message', { bytes: rawDataSize(data) });
      this.replyError(ws, 'invalid-message', `a control message may have at most ${PROTOCOL_LIMITS.maxControlMessageBytes} bytes`);
      return;
    }
    const text = rawDataToText(data);
    const parsed = parseMessage(HubMessageSchema, text);
    if (!parsed.ok) {
      const hubVersion = this.helloReceived ? undefined : hubProtocolVersionOf(text);
      if (hubVersion !== undefined && hubVersion !== PROTOCOL_VERSION) {
        this.protocolMismatch(ws, hubVersion);
        return;
      }
      this.log.warn('the hub sent an invalid message', { error: parsed.message });
      if (this.helloReceived && this.jobs.refuseMalformedJobStart(ws, text, parsed.message)) return;
      this.replyError(ws, parsed.code, parsed.message);
      return;
    }
    this.dispatch(ws, parsed.message);
  }

  private dispatch(ws: WebSocket, message: HubMessage): void {
    switch (message.type) {
      case 'hello':
        if (this.helloReceived) {
          this.replyError(ws, 'unexpected-message', 'the hub sent a second hello');
        } else if (message.protocolVersion !== PROTOCOL_VERSION) {
          this.protocolMismatch(ws, message.protocolVersion);
        } else {
          this.helloReceived = true;
          clearTimeout(this.helloTimer);
          this.attempt = 0;
          this.log.info('connected to the hub', {
            hub: this.endpoint.origin,
            hubVersion: message.hubVersion,
            roles: message.machine.roles,
            environments: message.machine.environments,
          });
          this.setState({ state: 'online', attempt: 0 });
          this.jobs.online(ws);
        }
        return;
      case 'health-check':
        if (!this.helloReceived) {
          this.replyError(ws, 'unexpected-message', 'health-check before the hub\'s hello', message.id);
          return;
        }
        void this.answerHealthCheck(ws, message.id);
        return;
      case 'error':
        this.log.warn('the hub reported an error', { code: message.code, error: message.message, replyTo: message.replyTo });
        return;
      case 'job-start':
      case 'job-cancel':
      case 'package-abort':
        if (!this.helloReceived) {
          this.replyError(ws, 'unexpected-message', `"${message.type}" before the hub's hello`, message.jobId);
          return;
        }
        this.jobs.message(ws, message);
        return;
    }
  }

  private async answerHealthCheck(ws: WebSocket, id: string): Promise<void> {
    const freeDisk = await freeDiskBytes(this.options.homeDir);
    this.send(ws, { type: 'health-report', id, freeDiskBytes: freeDisk, uptimeSeconds: process.uptime() });
  }

  private protocolMismatch(ws: WebSocket, hubVersion: number): void {
    this.log.error('protocol version mismatch: upgrade the tentacle or the hub so that both speak the same protocol', {
      tentacleProtocol: PROTOCOL_VERSION,
      hubProtocol: hubVersion,
    });
    this.closeWith(ws, CLOSE_CODES.protocolMismatch, `protocol mismatch: tentacle speaks ${PROTOCOL_VERSION}, hub speaks ${hubVersion}`);
  }

  private closeWith(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.closedByUs = reason;
    this.clearSocketTimers();
    ws.close(code, closeReason(reason));
    // a hub that never answers the close frame does not hold the reconnect up
    this.stopTimer = setTimeout(() => ws.terminate(), this.stopTimeoutMs);
  }

  private replyError(ws: WebSocket, code: string, message: string, replyTo?: string): void {
    this.send(ws, { type: 'error', code: truncate(code, 64), message: truncate(message, 1024), ...(replyTo === undefined ? {} : { replyTo }) });
  }

  private send(ws: WebSocket, message: TentacleMessage): void {
    if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(message));
  }

  private async onClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    if (ws !== this.ws) return;
    this.ws = undefined;
    this.clearSocketTimers();
    this.jobs.closed();
    if (this.state === 'stopping') {
      this.finishStop();
      return;
    }
    if (!this.opened) {
      const error = this.lastError ?? new Error(`closed with ${code}`);
      const failure = await explainConnectFailure(error, this.endpoint, this.options.tls, this.handshakeTimeoutMs);
      if (this.state !== 'connecting') return; // stopped while we looked
      this.scheduleReconnect(failure.message, failure.kind, (retryInMs) =>
        this.log.warn('cannot connect to the hub', { reason: failure.message, cause: failure.cause, attempt: this.attempt, retryInMs }),
      );
      return;
    }
    const name = closeCodeName(code);
    const byUs = this.closedByUs;
    const why = byUs ?? (reason === '' ? `the hub closed the connection (${name})` : `the hub closed the connection (${name}): ${reason}`);
    this.scheduleReconnect(why, undefined, (retryInMs) => {
      if (byUs === undefined) this.log.warn('the hub closed the connection', { code, codeName: name, reason, error: errorMessage(this.lastError), retryInMs });
      else this.log.info('reconnecting', { reason: byUs, retryInMs });
    });
  }

  /** Waits backoffDelayMs(attempt) (full jitter), then connects again. `report` logs why, with the delay. */
  private scheduleReconnect(reason: string, failure?: NetworkFailure['kind'], report?: (retryInMs: number) => void): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    if (this.attempt === 0) this.offlineSince = this.now();
    const delayMs = backoffDelayMs(this.attempt, this.random, this.now() - this.offlineSince);
    const attempt = this.attempt;
    report?.(delayMs);
    this.attempt += 1;
    this.setState({ state: 'waiting', attempt, reason, delayMs, ...(failure === undefined ? {} : { failure }) });
    this.reconnectTimer = setTimeout(() => void this.connect(), delayMs);
  }

  private clearSocketTimers(): void {
    clearTimeout(this.helloTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.stopTimer);
    this.helloTimer = undefined;
    this.heartbeatTimer = undefined;
    this.stopTimer = undefined;
  }

  private finishStop(): void {
    this.clearSocketTimers();
    clearTimeout(this.reconnectTimer);
    this.setState({ state: 'stopped', attempt: this.attempt });
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private setState(change: ConnectionStateChange): void {
    // stopping leads only to stopped, and stopped is final
    if (this.state === 'stopped' || (this.state === 'stopping' && change.state !== 'stopped')) return;
    this.state = change.state;
    try {
      this.options.onStateChange?.(change);
    } catch (error) {
      this.log.error('the state change listener threw', { err: error });
    }
  }
}

function errorMessage(error: unknown): string | undefined {
  return error instanceof Error ? error.message : undefined;
}
