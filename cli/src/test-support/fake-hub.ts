import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Environment, HubInfo, Machine, PackageInfo, Project, Release } from '@cuttle/shared';

/** What the fake hub saw of one request (the body only as size and hash: uploads can be big). */
export interface RecordedRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
}

export type FakeHandler = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => void | Promise<void>;

export interface FakeHub {
  /** http://127.0.0.1:<port> */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1, port 0, standing in for the hub. */
export async function startFakeHub(handler: FakeHandler): Promise<FakeHub> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer({ requestTimeout: 0 }, (req, res) => {
    const recorded: RecordedRequest = { method: req.method ?? '', url: new URL(req.url ?? '/', 'http://fake-hub'), headers: req.headers };
    requests.push(recorded);
    Promise.resolve(handler(req, res, recorded)).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: String(error) } });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, details?: Record<string, unknown>): void {
  sendJson(res, status, { error: { code, message, ...(details === undefined ? {} : { details }) } });
}

/** Reads a request body while hashing it; resolves with its size and SHA-256. */
export async function drainAndHash(req: IncomingMessage): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    size += buffer.length;
  }
  return { size, sha256: hash.digest('hex') };
}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export function packageInfo(overrides: Partial<PackageInfo> = {}): PackageInfo {
  return {
    id: 'Acme.Web',
    version: '1.4.0',
    sha256: 'a'.repeat(64),
    size: 1234,
    uploadedAt: '2025-01-31T14:05:09.000Z',
    uploadedBy: 'ci',
    ...overrides,
  };
}

/**
 * A well-behaved upload endpoint: reads the whole body, then answers 201 with the
 * package info the real hub would give (the SHA-256 it computed).
 */
export const acceptUpload: FakeHandler = async (req, res, recorded) => {
  const { size, sha256 } = await drainAndHash(req);
  const fileName = recorded.url.searchParams.get('filename') ?? '';
  const match = /^(.*?)\.(\d+\.\d+\.\d+.*)\.zip$/.exec(fileName);
  sendJson(res, 201, packageInfo({ id: match?.[1] ?? 'x', version: match?.[2] ?? '0.0.0', sha256, size }));
};

/** 204 No Content, as the hub answers a DELETE. */
export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

export function environment(overrides: Partial<Environment> = {}): Environment {
  return { name: 'Test', description: '', position: 0, createdAt: '2025-01-31T14:05:09.000Z', ...overrides };
}

export function machine(overrides: Partial<Machine> = {}): Machine {
  return {
    name: 'web-01',
    roles: ['web-server'],
    environments: ['Test'],
    status: 'online',
    disabled: false,
    registeredAt: '2025-01-30T10:00:00.000Z',
    lastSeenAt: '2025-01-31T14:05:09.000Z',
    tentacleVersion: '0.1.0',
    os: { platform: 'linux', release: '6.1.0', arch: 'x64', hostname: 'web-01.internal' },
    freeDiskBytes: 12 * 1024 ** 3,
    ...overrides,
  };
}

export function hubInfo(overrides: Partial<HubInfo> = {}): HubInfo {
  return { name: 'cuttle-hub', version: '0.1.0', protocolVersion: 1, tentaclePort: 10943, fingerprint: `sha256:${Array(32).fill('AB').join(':')}`, ...overrides };
}

export function project(overrides: Partial<Project> = {}): Project {
  return {
    name: 'Acme',
    description: 'The Acme web shop',
    steps: [
      { name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web-server'] },
      { name: 'Migrate database', type: 'run-script', roles: ['db-server'], script: './migrate.sh\n' },
    ],
    createdAt: '2025-01-31T14:05:09.000Z',
    updatedAt: '2025-01-31T14:05:09.000Z',
    ...overrides,
  };
}

export function release(overrides: Partial<Release> = {}): Release {
  return {
    project: 'Acme',
    version: '0.0.1',
    notes: null,
    createdAt: '2025-01-31T14:05:09.000Z',
    createdBy: 'ci',
    steps: project().steps,
    packages: [{ id: 'Acme.Web', version: '1.4.0', sha256: 'a'.repeat(64), size: 1234 }],
    ...overrides,
  };
}
