import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import {
  CLOSE_CODES,
  CuttleError,
  PROTOCOL_LIMITS,
  RegisterRequestSchema,
  TENTACLE_CONNECT_PATH,
  TENTACLE_REGISTER_PATH,
  isCuttleError,
} from '@cuttle/shared';
import type { TentacleJobs } from '../deployments/tentacle-jobs.js';
import { errorBody, validationError } from '../http/errors.js';
import { ERROR_STATUS } from '../http/error-status.js';
import type { ConnectionRegistry } from '../machines/connection-registry.js';
import { PublicKeyCache, verifyConnectToken } from '../machines/connect-token.js';
import type { MachineService } from '../machines/machine-service.js';
import type { RegistrationService } from '../machines/registration-service.js';
import type { TlsMaterial } from '../tls/certificate.js';
import { TentacleJobsGateway } from './tentacle-jobs-gateway.js';
import { WebSocketSession } from './tentacle-session.js';

export interface GatewayDeps {
  tls: TlsMaterial;
  machines: MachineService;
  registration: RegistrationService;
  connections: ConnectionRegistry;
  hubVersion: string;
  log: Logger;
  heartbeatIntervalMs?: number;
  /** The path of a stored package blob (the package store's blobPath); without it no package can be sent. */
  packageFile?: (sha256: string) => string;
  /** How long a job whose connection dropped during the transfer waits for the tentacle (default 60 s). */
  transferReconnectGraceMs?: number;
  /** Package transfers that stream at once over all connections (default 4). */
  maxConcurrentTransfers?: number;
  /** How long a cancelled job waits for the tentacle's result before it resolves anyway (default 15 s). */
  jobConfirmTimeoutMs?: number;
}

const REGISTER_BODY_LIMIT = 16 * 1024;

export interface TentacleGateway {
  server: https.Server;
  /** Runs deployment jobs on the connected tentacles. */
  jobs: TentacleJobs;
  /** Resolves every running job `interrupted`, then closes every tentacle connection (they will reconnect to the next hub); resolves once all are closed. */
  closeAll(): Promise<void>;
  stop(): void;
}

/**
 * The TLS port tentacles talk to: registration (a JSON POST) and the websocket, whose upgrade
 * is authenticated before any websocket exists (401 with no socket on failure).
 */
export function createTentacleGateway(deps: GatewayDeps): TentacleGateway {
  const { log, connections } = deps;
  const server = https.createServer({ cert: deps.tls.cert, key: deps.tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
    handleRequest(req, res, deps).catch((error: unknown) => {
      if (!isCuttleError(error)) log.error({ err: error }, 'tentacle port request failed');
      else log.warn({ code: error.code, reason: error.message, remote: req.socket.remoteAddress }, 'tentacle registration refused');
      if (!res.headersSent) sendJsonError(res, isCuttleError(error) ? error : new CuttleError('internal', 'An unexpected error occurred; the hub log has the details.'));
    });
  });
  server.on('tlsClientError', (error) => log.debug({ err: error }, 'tentacle TLS handshake failed'));

  // Package chunks only go to tentacles, but ws applies one limit to both kinds; the session
  // refuses text messages above maxControlMessageBytes itself.
  const wss = new WebSocketServer({ noServer: true, maxPayload: PROTOCOL_LIMITS.maxBinaryMessageBytes, perMessageDeflate: false, clientTracking: false });
  const sessions = new Set<WebSocketSession>();
  const publicKeys = new PublicKeyCache();
  let allClosed: (() => void) | null = null;
  const jobs = new TentacleJobsGateway({
    packageFile: deps.packageFile,
    transferReconnectGraceMs: deps.transferReconnectGraceMs,
    maxConcurrentTransfers: deps.maxConcurrentTransfers,
    confirmTimeoutMs: deps.jobConfirmTimeoutMs,
    isCurrent: (session) => connections.get(session.machineName) === session,
    log,
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      acceptUpgrade(req, socket, head);
    } catch (error) {
      // never let one connection's fault reach the process
      log.error({ err: error, remote: req.socket.remoteAddress }, 'tentacle upgrade failed');
      refuseUpgrade(socket, 500, 'the hub could not accept the connection');
    }
  });

  function acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== TENTACLE_CONNECT_PATH) return refuseUpgrade(socket, 404, 'unknown path');
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) return refuseUpgrade(socket, 401, 'a connect token is required (Authorization: Bearer)');
    const verdict = verifyConnectToken(bearer, (name) => deps.machines.findForConnect(name), Math.floor(Date.now() / 1000), publicKeys);
    if (!verdict.ok) {
      log.warn({ status: verdict.status, reason: verdict.reason, remote: req.socket.remoteAddress }, 'tentacle connection refused');
      return refuseUpgrade(socket, verdict.status, verdict.reason);
    }
    const machine = verdict.machine;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new WebSocketSession(
        machine.name,
        ws,
        deps.hubVersion,
        {
          onReady: (ready, hello) => {
            // The machine may have been removed, disabled or re-keyed since the upgrade was checked.
            const current = deps.machines.findForConnect(machine.name);
            if (!current || current.disabled || current.publicKey !== machine.publicKey) {
              ready.close(current?.disabled ? CLOSE_CODES.disabled : CLOSE_CODES.revoked, 'this machine is no longer registered with this key, or is disabled');
              return null;
            }
            const replaced = connections.add(ready);
            replaced?.close(CLOSE_CODES.replaced, 'a newer connection of this machine replaced this one');
            deps.machines.recordHello(machine.name, { tentacleVersion: hello.tentacleVersion, os: hello.os, freeDiskBytes: hello.freeDiskBytes });
            log.info({ machine: machine.name, tentacleVersion: hello.tentacleVersion, replaced: replaced !== null }, 'tentacle connected');
            return { roles: current.roles, environments: current.environments };
          },
          onOnline: (online) => jobs.sessionOnline(online),
          onJobMessage: (from, message) => jobs.handleMessage(from, message),
          onClosed: (closed) => {
            sessions.delete(closed);
            const wasCurrent = connections.remove(closed);
            try {
              jobs.sessionClosed(closed);
              if (wasCurrent) deps.machines.recordDisconnect(closed.machineName);
            } finally {
              if (sessions.size === 0) allClosed?.();
            }
          },
        },
        log,
      );
      sessions.add(session);
    });
  }

  // One sweep for all connections: each gets a ping, and one that missed the last is dropped.
  const heartbeat = setInterval(() => {
    for (const session of sessions) session.heartbeat();
  }, deps.heartbeatIntervalMs ?? PROTOCOL_LIMITS.heartbeatIntervalMs);
  heartbeat.unref();

  return {
    server,
    jobs,
    closeAll: () =>
      new Promise<void>((resolve) => {
        jobs.shutdown();
        if (sessions.size === 0) return resolve();
        allClosed = resolve;
        for (const session of sessions) session.close(CLOSE_CODES.shuttingDown, 'the hub is shutting down');
      }),
    stop: () => clearInterval(heartbeat),
  };
}

async function handleRequest(req: IncomingMessage, res: ServerResponse, deps: GatewayDeps): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (path !== TENTACLE_REGISTER_PATH || req.method !== 'POST') {
    sendJsonError(res, new CuttleError('not-found', `No route ${req.method} ${path} on the tentacle port.`));
    return;
  }
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
    sendJsonError(res, new CuttleError('unsupported-media-type', 'Send the registration as JSON.'));
    return;
  }
  const body = await readJson(req);
  const parsed = RegisterRequestSchema.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error, 'registration');
  const registered = deps.registration.register(parsed.data);
  res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify(registered));
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > REGISTER_BODY_LIMIT) {
        reject(new CuttleError('body-too-large', `The registration body is larger than ${REGISTER_BODY_LIMIT} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new CuttleError('invalid-json', 'The registration body is not valid JSON.'));
      }
    });
    req.on('error', reject);
  });
}

function sendJsonError(res: ServerResponse, error: CuttleError): void {
  const body = errorBody(error);
  res.writeHead(ERROR_STATUS[error.code], { 'Content-Type': 'application/json', Connection: 'close' }).end(JSON.stringify(body));
}

const REFUSALS = {
  401: { text: 'Unauthorized', code: 'unauthorized' },
  403: { text: 'Forbidden', code: 'machine-disabled' },
  404: { text: 'Not Found', code: 'not-found' },
  500: { text: 'Internal Server Error', code: 'internal' },
} as const;

/** Answers an upgrade with an HTTP error and closes the socket (no websocket ever exists). */
function refuseUpgrade(socket: Duplex, status: keyof typeof REFUSALS, reason: string): void {
  const { text, code } = REFUSALS[status];
  const body = JSON.stringify({ error: { code, message: reason } });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  // a client that never closes its side does not keep the socket (or the hub's shutdown) waiting
  setTimeout(() => socket.destroy(), 1_000).unref();
}

