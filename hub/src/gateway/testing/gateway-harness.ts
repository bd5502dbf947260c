import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import pino from 'pino';
import WebSocket from 'ws';
import { decodeChunk, type Job, type JobLogLine, type JobPhase, type LogStream } from '@cuttle/shared';
import { ApiKeyRepository } from '../../api-keys/api-key-repository.js';
import { ApiKeyService } from '../../api-keys/api-key-service.js';
import { openDatabase } from '../../db/open-database.js';
import type { JobHandlers } from '../../deployments/tentacle-jobs.js';
import { EnvironmentRepository } from '../../environments/environment-repository.js';
import { EnvironmentService } from '../../environments/environment-service.js';
import { ConnectionRegistry } from '../../machines/connection-registry.js';
import { MachineRepository } from '../../machines/machine-repository.js';
import { MachineService } from '../../machines/machine-service.js';
import { RegistrationService } from '../../machines/registration-service.js';
import { RegistrationTokenRepository } from '../../machines/registration-token-repository.js';
import { loadOrCreateTls, type TlsMaterial } from '../../tls/certificate.js';
import { createTentacleGateway, type TentacleGateway } from '../tentacle-server.js';

/**
 * Test support for the gateway's jobs: a real gateway on port 0 over an in-memory database, and a
 * tentacle driven by the test over a real websocket.
 */

export type Message = Record<string, unknown> & { type: string };
export type Chunk = { jobId: string; offset: number; data: Buffer };

export async function waitFor<T>(check: () => T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A tentacle driven by the test over a real websocket: it says hello, then sends what the test says. */
export class TestTentacle {
  readonly messages: Message[] = [];
  readonly chunks: Chunk[] = [];
  private seen = 0;
  readonly closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const chunk = decodeChunk(data as Buffer);
        if (!chunk.ok) throw new Error(chunk.message);
        this.chunks.push({ jobId: chunk.jobId, offset: chunk.offset, data: Buffer.from(chunk.data) });
      } else this.messages.push(JSON.parse(data.toString()) as Message);
    });
    this.closed = new Promise((resolve) => ws.on('close', () => resolve()));
  }

  static async connect(port: number, tls: TlsMaterial, name: string, key: KeyObject): Promise<TestTentacle> {
    const token = jwt.sign({}, key, { algorithm: 'ES256', expiresIn: 300, issuer: name, audience: 'cuttle-hub' });
    const pinned: https.RequestOptions = { ca: tls.cert, checkServerIdentity: () => undefined };
    const ws = new WebSocket(`wss://127.0.0.1:${port}/tentacle/v1/connect`, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false, ...pinned });
    const tentacle = new TestTentacle(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    tentacle.send({ type: 'hello', protocolVersion: 1, tentacleVersion: '0.0.0-test', os: { platform: 'linux', release: 't', arch: 'x64', hostname: name }, freeDiskBytes: null });
    await tentacle.next('hello');
    return tentacle;
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The next message of that type (in arrival order, each returned once). */
  async next(type: string, timeoutMs = 10_000): Promise<Message> {
    return waitFor(
      () => {
        while (this.seen < this.messages.length) {
          const message = this.messages[this.seen++]!;
          if (message.type === type) return message;
        }
        return undefined;
      },
      `a "${type}" message`,
      timeoutMs,
    );
  }

  receivedBytes(jobId: string): number {
    return this.chunks.filter((c) => c.jobId === jobId).reduce((sum, c) => sum + c.data.length, 0);
  }

  cut(): Promise<void> {
    this.ws.terminate();
    return this.closed;
  }
}

/** Records what the gateway tells a run's handlers. */
export function recorder() {
  const phases: JobPhase[] = [];
  const logs: JobLogLine[] = [];
  const hubLogs: Array<{ stream: LogStream; text: string }> = [];
  const bytes: number[] = [];
  const handlers: JobHandlers = {
    onPhase: (phase) => phases.push(phase),
    onLog: (lines) => logs.push(...lines),
    onHubLog: (stream, text) => hubLogs.push({ stream, text }),
    onBytesSent: (total) => bytes.push(total),
  };
  return { phases, logs, hubLogs, bytes, handlers };
}

const context = (machine: string) => ({ deploymentId: 1, taskId: 7, project: 'Shop', release: '1.0.0', environment: 'Test', machine, step: 'Deploy web' });
export const scriptJob = (machine: string): Job => ({ kind: 'run-script', ...context(machine), script: 'echo hi', timeoutSeconds: 60 });
export const deployJob = (machine: string, { sha256, size }: { sha256: string; size: number }): Job => ({
  kind: 'deploy-package',
  ...context(machine),
  app: { project: 'Shop', environment: 'Test', slot: null },
  package: { id: 'Acme.Web', version: '1.4.0', sha256, size },
  installDir: null,
  retain: 3,
  scriptTimeoutSeconds: 60,
});

export interface Harness {
  gateway: TentacleGateway;
  port: number;
  connections: ConnectionRegistry;
  /** Registers a machine and returns a connector for it. */
  machine(name: string): () => Promise<TestTentacle>;
  close(): Promise<void>;
}

export async function startGateway(tls: TlsMaterial, blobDir: string, options: { graceMs: number; confirmMs: number; maxTransfers?: number }): Promise<Harness> {
  const { db } = openDatabase(':memory:');
  const clock = () => new Date();
  const log = pino({ level: 'silent' });
  const environments = new EnvironmentService(new EnvironmentRepository(db), clock);
  environments.create({ name: 'Test' });
  const connections = new ConnectionRegistry();
  const machineRepository = new MachineRepository(db);
  const machines = new MachineService(machineRepository, environments, connections, clock, log);
  const apiKeys = new ApiKeyService(new ApiKeyRepository(db), clock);
  const registration = new RegistrationService(new RegistrationTokenRepository(db), machineRepository, environments, apiKeys, connections, clock, log);
  const gateway = createTentacleGateway({
    tls,
    machines,
    registration,
    connections,
    hubVersion: '0.0.0-test',
    log,
    packageFile: (sha256) => path.join(blobDir, `${sha256}.zip`),
    transferReconnectGraceMs: options.graceMs,
    jobConfirmTimeoutMs: options.confirmMs,
    ...(options.maxTransfers !== undefined ? { maxConcurrentTransfers: options.maxTransfers } : {}),
  });
  await new Promise<void>((resolve) => gateway.server.listen(0, '127.0.0.1', resolve));
  const port = (gateway.server.address() as AddressInfo).port;
  return {
    gateway,
    port,
    connections,
    machine(name) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      machineRepository.insert({ name, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), roles: ['web'], registeredAt: clock().toISOString() }, []);
      return () => TestTentacle.connect(port, tls, name, privateKey);
    },
    async close() {
      gateway.stop();
      await gateway.closeAll();
      gateway.server.closeAllConnections();
      await new Promise<void>((resolve) => gateway.server.close(() => resolve()));
      db.close();
    },
  };
}

export interface StoredBlob {
  sha256: string;
  size: number;
  bytes: Buffer;
}

export interface GatewayFixture {
  tls: TlsMaterial;
  /** grace and confirm waits long enough never to run out in a test */
  hub: Harness;
  /** short grace and confirm waits, for the paths that wait them out */
  quick: Harness;
  /** Stores a package blob of random bytes where both gateways find it. */
  blob(size: number): Promise<StoredBlob>;
  /** A machine name not used before in this fixture. */
  uniqueName(prefix: string): string;
  /** Starts another gateway on the same folder (for a test that shuts it down, or needs other limits). */
  another(options?: { maxTransfers?: number }): Promise<Harness>;
  close(): Promise<void>;
}

export async function startFixture(): Promise<GatewayFixture> {
  const temp = await mkdtemp(path.join(tmpdir(), 'cuttle-gateway-jobs-'));
  const tls = await loadOrCreateTls(temp, null, null);
  const hub = await startGateway(tls, temp, { graceMs: 10_000, confirmMs: 10_000 });
  const quick = await startGateway(tls, temp, { graceMs: 200, confirmMs: 200 });
  let count = 0;
  return {
    tls,
    hub,
    quick,
    async blob(size) {
      const bytes = randomBytes(size);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await writeFile(path.join(temp, `${sha256}.zip`), bytes);
      return { sha256, size, bytes };
    },
    uniqueName: (prefix) => `${prefix}-${++count}`,
    another: (options) => startGateway(tls, temp, { graceMs: 10_000, confirmMs: 10_000, ...options }),
    async close() {
      await hub.close();
      await quick.close();
      await rm(temp, { recursive: true, force: true });
    },
  };
}
