import {
  encodeChunkHeader,
  PROTOCOL_LIMITS,
  type DeployPackageJob,
  type Job,
  type JobLogLine,
  type JobPhase,
  type RunScriptJob,
  type TentacleMessage,
} from '@cuttle/shared';
import type { FakeTentacleSocket } from './fake-hub.js';
import { waitFor } from './wait.js';
import { sha256Of } from './zip-builder.js';

type Message<T extends TentacleMessage['type']> = Extract<TentacleMessage, { type: T }>;

/** What the fake hub does as a deployment runner: send jobs, serve packages, read the job's messages. */
export function startJob(socket: FakeTentacleSocket, jobId: string, job: Job): void {
  socket.send({ type: 'job-start', jobId, job });
}

export function deployJob(zip: Buffer, overrides: Partial<DeployPackageJob> = {}): DeployPackageJob {
  return {
    kind: 'deploy-package',
    deploymentId: 7,
    taskId: 11,
    project: 'shop',
    release: '1.0.0',
    environment: 'Test',
    machine: 'web-01',
    step: 'web',
    app: { project: 'shop', environment: 'Test', slot: null },
    package: { id: 'Acme.Web', version: '1.0.0', sha256: sha256Of(zip), size: zip.length },
    installDir: null,
    retain: 3,
    scriptTimeoutSeconds: 60,
    ...overrides,
  };
}

export function scriptJob(script: string, overrides: Partial<RunScriptJob> = {}): RunScriptJob {
  return {
    kind: 'run-script',
    deploymentId: 7,
    taskId: 11,
    project: 'shop',
    release: '1.0.0',
    environment: 'Test',
    machine: 'web-01',
    step: 'smoke',
    script,
    timeoutSeconds: 60,
    ...overrides,
  };
}

export function jobMessages<T extends TentacleMessage['type']>(socket: FakeTentacleSocket, type: T, jobId: string): Array<Message<T>> {
  return socket.messages.filter((m): m is Message<T> => m.type === type && 'jobId' in m && m.jobId === jobId);
}

export async function jobMessage<T extends 'job-result' | 'package-request' | 'job-status'>(
  socket: FakeTentacleSocket,
  type: T,
  jobId: string,
  timeoutMs = 10_000,
): Promise<Message<T>> {
  await waitFor(() => jobMessages(socket, type, jobId).length > 0, timeoutMs, `${type} for ${jobId}`);
  const found = jobMessages(socket, type, jobId)[0];
  if (found === undefined) throw new Error(`no ${type}`);
  return found;
}

export function jobResult(socket: FakeTentacleSocket, jobId: string, timeoutMs = 10_000): Promise<Message<'job-result'>> {
  return jobMessage(socket, 'job-result', jobId, timeoutMs);
}

export function jobLines(socket: FakeTentacleSocket, jobId: string): JobLogLine[] {
  return jobMessages(socket, 'job-log', jobId).flatMap((m) => m.lines);
}

export function jobText(socket: FakeTentacleSocket, jobId: string): string {
  return jobLines(socket, jobId)
    .map((l) => `${l.stream}: ${l.text}`)
    .join('\n');
}

export function jobPhases(socket: FakeTentacleSocket, jobId: string): JobPhase[] {
  return jobMessages(socket, 'job-status', jobId).map((m) => m.phase);
}

export interface ServeOptions {
  /** stop after sending this many bytes (a cut transfer) */
  limit?: number;
  /** change the bytes on the wire (a corrupt transfer) */
  tamper?: (bytes: Buffer) => Buffer;
  chunkBytes?: number;
}

/**
 * Waits for the job's package-request and streams the package from the requested offset as
 * chunk messages, holding back while the socket buffers more than sendHighWaterBytes.
 */
export async function servePackage(socket: FakeTentacleSocket, jobId: string, zip: Buffer, options: ServeOptions = {}): Promise<{ offset: number; sent: number }> {
  const request = await jobMessage(socket, 'package-request', jobId);
  const bytes = options.tamper ? options.tamper(Buffer.from(zip)) : zip;
  const chunkBytes = options.chunkBytes ?? PROTOCOL_LIMITS.packageChunkBytes;
  const end = Math.min(bytes.length, request.offset + (options.limit ?? bytes.length));
  let sent = 0;
  for (let offset = request.offset; offset < end; offset += chunkBytes) {
    const data = bytes.subarray(offset, Math.min(end, offset + chunkBytes));
    await sendChunk(socket, jobId, offset, data);
    sent += data.length;
  }
  return { offset: request.offset, sent };
}

export async function sendChunk(socket: FakeTentacleSocket, jobId: string, offset: number, data: Buffer): Promise<void> {
  const message = Buffer.concat([encodeChunkHeader(jobId, offset), data]);
  if (socket.ws.bufferedAmount <= PROTOCOL_LIMITS.sendHighWaterBytes) {
    socket.ws.send(message, { binary: true });
    return;
  }
  await new Promise<void>((resolve) => socket.ws.send(message, { binary: true }, () => resolve()));
}
