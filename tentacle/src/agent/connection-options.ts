import type { OsInfo } from '@cuttle/shared';
import type { Logger } from '../log/logger.js';
import type { NetworkFailure } from '../net/network-failure.js';
import type { PinnedHubTls } from '../net/pinned-tls.js';
import type { TentacleIdentity } from './connect-token.js';
import type { TentacleJobHandler } from './job-handler.js';

/** Local timings of the agent (the protocol's own live in PROTOCOL_LIMITS). */
export const AGENT_DEFAULTS = {
  /** TCP + TLS + HTTP upgrade must finish this soon. */
  handshakeTimeoutMs: 15_000,
  /** stop() waits this long for the hub to answer our close frame, then drops the socket. */
  stopTimeoutMs: 1_000,
} as const;

export type ConnectionState = 'idle' | 'connecting' | 'handshaking' | 'online' | 'waiting' | 'stopping' | 'stopped';

export interface ConnectionStateChange {
  state: ConnectionState;
  /** reconnect attempts since the last completed hello */
  attempt: number;
  /** why the connection failed or closed (on `waiting`) */
  reason?: string;
  /** the failure's kind (on `waiting` after a failed connect) */
  failure?: NetworkFailure['kind'];
  /** how long until the next try (on `waiting`) */
  delayMs?: number;
}

export interface TentacleConnectionOptions {
  identity: TentacleIdentity;
  /** `wss://host:port`, the hub's tentacle port */
  hubUrl: string;
  tls: PinnedHubTls;
  log: Logger;
  /** the tentacle's version, sent in the hello */
  version: string;
  /** the home folder; free disk space is measured where it lives */
  homeDir: string;
  onStateChange?: (change: ConnectionStateChange) => void;
  /** runs the hub's jobs (deployments); without it every job-start is refused `invalid-job` */
  jobs?: TentacleJobHandler;
  /** OS facts for the hello; pass one object to share it between many connections */
  osInfo?: OsInfo;
  heartbeatIntervalMs?: number;
  helloTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** the randomness of the backoff jitter (tests make it predictable) */
  random?: () => number;
  /** the clock of the backoff (milliseconds; tests make it predictable) */
  now?: () => number;
}
