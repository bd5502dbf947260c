import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import jwt, { type Jwt, type JwtPayload } from 'jsonwebtoken';
import { generate } from 'selfsigned';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CONNECT_TOKEN_AUDIENCE,
  PROTOCOL_LIMITS,
  PROTOCOL_VERSION,
  RegisterRequestSchema,
  TENTACLE_CONNECT_PATH,
  TENTACLE_REGISTER_PATH,
  TentacleMessageSchema,
  parseMessage,
  type TentacleMessage,
} from '@cuttle/shared';
import { fingerprintOfPem } from '../net/fingerprint.js';
import { waitFor } from './wait.js';

export interface HubCertificate {
  cert: string;
  key: string;
}

export async function makeHubCertificate(keyPair?: { privateKey: string; publicKey: string }): Promise<HubCertificate> {
  const pems = await generate([{ name: 'commonName', value: 'cuttle-hub' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ...(keyPair === undefined ? {} : { keyPair }),
  });
  return { cert: pems.cert, key: pems.private };
}

export type RegisterResponder = (body: unknown) => { status: number; body: unknown };

export interface FakeHubOptions {
  certificate?: HubCertificate;
  port?: number;
  /** what the hub answers to the tentacle's hello: a hub hello (default), a custom value, or nothing */
  hello?: 'auto' | 'none' | Record<string, unknown>;
  /** false: the hub does not answer pings (a hung hub) */
  autoPong?: boolean;
  register?: RegisterResponder;
}

export interface UpgradeRecord {
  accepted: boolean;
  reason?: string;
  header?: Jwt['header'];
  claims?: JwtPayload;
}

/** A connected tentacle as the fake hub sees it. */
export class FakeTentacleSocket {
  readonly messages: TentacleMessage[] = [];
  readonly invalid: string[] = [];
  closeInfo: { code: number; reason: string } | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly claims: JwtPayload,
    readonly header: Jwt['header'],
  ) {
    ws.on('message', (data, isBinary) => {
      const parsed = parseMessage(TentacleMessageSchema, isBinary ? '<binary>' : data.toString());
      if (parsed.ok) this.messages.push(parsed.message);
      else this.invalid.push(parsed.message);
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  async nextMessage<T extends TentacleMessage['type']>(type: T, after = 0, timeoutMs = 5_000): Promise<Extract<TentacleMessage, { type: T }>> {
    let found: Extract<TentacleMessage, { type: T }> | undefined;
    await waitFor(() => {
      found = this.messages.slice(after).find((m): m is Extract<TentacleMessage, { type: T }> => m.type === type);
      return found !== undefined;
    }, timeoutMs);
    if (found === undefined) throw new Error(`no ${type} message`);
    return found;
  }

  async closed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    await waitFor(() => this.closeInfo !== undefined, timeoutMs);
    if (this.closeInfo === undefined) throw new Error('not closed');
    return this.closeInfo;
  }
}

/**
 * A stand-in for the hub's tentacle port, on 127.0.0.1: HTTPS with a self-signed certificate,
 * the registration POST, and the websocket upgrade authenticated with the tentacle's JWT
 * (401 before any websocket exists), the way the real gateway must do it.
 */
export class FakeHub {
  readonly registerRequests: unknown[] = [];
  readonly upgrades: UpgradeRecord[] = [];
  readonly connections: FakeTentacleSocket[] = [];
  /** machine name → SPKI PEM; filled by registrations or directly by a test */
  readonly publicKeys = new Map<string, string>();
  tlsHandshakes = 0;
  port = 0;
  readonly fingerprint: string;
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;

  private constructor(
    readonly certificate: HubCertificate,
    private readonly options: FakeHubOptions,
  ) {
    this.fingerprint = fingerprintOfPem(certificate.cert);
  }

  static async start(options: FakeHubOptions = {}): Promise<FakeHub> {
    const hub = new FakeHub(options.certificate ?? (await makeHubCertificate()), options);
    await hub.listen(options.port ?? 0);
    return hub;
  }

  get url(): string {
    return `wss://127.0.0.1:${this.port}`;
  }

  async waitForConnection(index = this.connections.length, timeoutMs = 5_000): Promise<FakeTentacleSocket> {
    await waitFor(() => this.connections.length > index, timeoutMs);
    const connection = this.connections[index];
    if (connection === undefined) throw new Error('no connection');
    return connection;
  }

  async listen(port: number): Promise<void> {
    const wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: PROTOCOL_LIMITS.maxControlMessageBytes,
      autoPong: this.options.autoPong ?? true,
    });
    const server = createServer({ cert: this.certificate.cert, key: this.certificate.key }, (req, res) => this.onRequest(req, res));
    server.on('secureConnection', () => {
      this.tlsHandshakes += 1;
    });
    server.on('tlsClientError', () => {});
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(wss, req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    this.server = server;
    this.wss = wss;
  }

  /** Drops every connection and stops listening (the port is free for a restart). */
  async stop(): Promise<void> {
    const server = this.server;
    const wss = this.wss;
    this.server = undefined;
    this.wss = undefined;
    for (const client of wss?.clients ?? []) client.terminate();
    wss?.close();
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private onRequest(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    if (req.method !== 'POST' || req.url !== TENTACLE_REGISTER_PATH) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code: 'not-found', message: 'no such route' } }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      this.registerRequests.push(body);
      const answer = this.options.register?.(body) ?? this.defaultRegister(body);
      res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  }

  private defaultRegister(body: unknown): { status: number; body: unknown } {
    const parsed = RegisterRequestSchema.safeParse(body);
    if (!parsed.success) return { status: 400, body: { error: { code: 'invalid-request', message: 'bad registration' } } };
    if (this.publicKeys.has(parsed.data.name) && !parsed.data.force) {
      return { status: 409, body: { error: { code: 'machine-exists', message: `a machine named ${parsed.data.name} exists` } } };
    }
    this.publicKeys.set(parsed.data.name, parsed.data.publicKey);
    const { name, roles, environments } = parsed.data;
    return { status: 201, body: { name, roles, environments, registeredAt: '2025-01-02T03:04:05.000Z' } };
  }

  private onUpgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const refuse = (reason: string): void => {
      this.upgrades.push({ accepted: false, reason });
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    };
    if (req.url !== TENTACLE_CONNECT_PATH) return refuse('wrong path');
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined) return refuse('no bearer token');
    const unverified = jwt.decode(token, { complete: true });
    const issuer = unverified !== null && typeof unverified.payload === 'object' ? unverified.payload.iss : undefined;
    const key = issuer === undefined ? undefined : this.publicKeys.get(issuer);
    if (issuer === undefined || key === undefined) return refuse('unknown machine');
    let verified: Jwt;
    try {
      verified = jwt.verify(token, key, { algorithms: ['ES256'], audience: CONNECT_TOKEN_AUDIENCE, issuer, complete: true });
    } catch (error) {
      return refuse((error as Error).message);
    }
    const claims = verified.payload;
    if (typeof claims !== 'object' || typeof claims.exp !== 'number') return refuse('token without exp');
    this.upgrades.push({ accepted: true, header: verified.header, claims });
    wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new FakeTentacleSocket(ws, claims, verified.header);
      this.connections.push(connection);
      ws.on('error', () => {});
      ws.once('message', (data) => this.answerHello(connection, data.toString(), issuer));
    });
  }

  private answerHello(connection: FakeTentacleSocket, first: string, name: string): void {
    const hello = this.options.hello ?? 'auto';
    if (hello === 'none') return;
    if (hello !== 'auto') {
      connection.send(hello);
      return;
    }
    if (!first.includes('"hello"')) return;
    connection.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, hubVersion: '0.0.0-fake', machine: { name, roles: [], environments: [] } });
  }
}
