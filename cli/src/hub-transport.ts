import { open, type FileHandle } from 'node:fs/promises';
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { API_BASE, EXIT, errorCodeOf } from '@cuttle/shared';
import { CliError, badResponse, interrupted } from './cli-error.js';
import { networkError, timeoutError } from './network-errors.js';

/** Hub answers larger than this are refused (package lists, API keys and errors are small). */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** How long the announce-only retry of a broken upload waits for the hub's verdict. */
export const ANSWER_PROBE_MS = 5_000;
/**
 * Read size of an upload: large reads mean fewer syscalls and fewer trips through the hash and
 * the meter; small files still get a dozen or so reads, so their progress moves in steps.
 */
export function uploadChunkBytes(size: number): number {
  return Math.min(1024 * 1024, Math.max(64 * 1024, 2 ** Math.floor(Math.log2(Math.max(1, size / 16)))));
}

export interface TransportOptions {
  hubUrl: URL;
  apiKey: string | undefined;
  /** Idle time (no bytes either way) after which a request is given up. */
  timeoutMs: number;
  userAgent: string;
  /** Aborting it (Ctrl-C) stops the exchange with an `interrupted` error. */
  signal?: AbortSignal;
}

export interface HubResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface UploadResponse extends HubResponse {
  /** False when the hub answered before it had the whole body (the rest was not sent). */
  bodyComplete: boolean;
}

export interface FileBody {
  path: string;
  size: number;
  contentType: string;
  /** Called with every chunk on its way to the socket, in order. */
  onData(chunk: Buffer): void;
}

type RequestBody =
  | { kind: 'none' }
  | { kind: 'buffer'; data: Buffer; contentType: string }
  | ({ kind: 'file' } & FileBody)
  /** Headers of a file upload (with `Expect: 100-continue`) but no body: asks for the hub's verdict. */
  | { kind: 'announce'; size: number; contentType: string };

/** `${hub}/api/v1${path}?query`, keeping a path prefix the hub URL may have. */
export function apiUrl(hubUrl: URL, path: string, query: Record<string, string | undefined> = {}): URL {
  const prefix = hubUrl.pathname.replace(/\/+$/, '');
  const url = new URL(`${hubUrl.origin}${prefix}${API_BASE}${path}`);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url;
}

/** `headers` are added to the request's own (`If-Match` for a conditional PUT). */
export async function sendJson(options: TransportOptions, method: string, url: URL, body?: unknown, headers: OutgoingHttpHeaders = {}): Promise<HubResponse> {
  const requestBody: RequestBody =
    body === undefined ? { kind: 'none' } : { kind: 'buffer', data: Buffer.from(JSON.stringify(body)), contentType: 'application/json' };
  return exchange(options, method, url, requestBody, headers);
}

/**
 * Streams a file as the request body; resolves with the hub's answer, even one that came early.
 *
 * A hub that refuses an upload early (401, 409, 413) answers and closes the connection while
 * the body is still streaming. The answer usually arrives first, but a write can hit the
 * connection reset before Node has read it, and the answer is lost. Then the request is asked
 * again with its headers only (`Expect: 100-continue`, no body): a refusal that needs no body
 * comes straight back, and that is what the user sees instead of ECONNRESET/EPIPE.
 */
export async function sendFile(options: TransportOptions, url: URL, file: FileBody): Promise<UploadResponse> {
  try {
    return await exchange(options, 'POST', url, { kind: 'file', ...file });
  } catch (error) {
    if (!(error instanceof CliError) || error.code !== 'connection-lost') throw error;
    const probe = { ...options, timeoutMs: Math.min(options.timeoutMs, ANSWER_PROBE_MS) };
    const verdict = await exchange(probe, 'POST', url, { kind: 'announce', size: file.size, contentType: file.contentType }).catch(() => undefined);
    // Only a refusal or "kept the existing one" can come without a body; anything else means the hub wanted it.
    if (verdict === undefined || (verdict.status !== 200 && verdict.status < 400)) throw error;
    return verdict;
  }
}

/** Chunks of an upload in flight at once: one being read from the file while the others are written. */
const UPLOAD_BUFFERS = 4;

/** A read of the file being uploaded failed, or it ended before its announced size. */
class SourceError extends Error {}

/**
 * Sends a file as the request body through a few buffers used again and again (no allocation
 * per chunk), reporting each chunk before it is written. `hold()` stops it once the hub has
 * answered. A file whose size is not the announced one any more (it changed while it was sent)
 * fails before the body is complete, so the hub never stores it.
 */
class FileSender {
  private held = false;
  private closed = false;
  private passed = 0;
  private wake: (() => void) | null = null;

  constructor(
    private readonly body: FileBody,
    private readonly request: ClientRequest,
  ) {
    request.once('close', () => {
      this.closed = true;
      this.signal();
    });
  }

  /** Every announced byte has passed on its way to the connection. */
  get passedAll(): boolean {
    return this.passed >= this.body.size;
  }

  hold(): void {
    this.held = true;
    this.signal();
  }

  /** Resolves once the body is written and ended (or held, or the request closed); rejects with SourceError or a write error. */
  async run(): Promise<void> {
    const { size } = this.body;
    const chunkBytes = uploadChunkBytes(size);
    let handle: FileHandle;
    try {
      handle = await open(this.body.path, 'r');
    } catch (error) {
      throw new SourceError((error as Error).message, { cause: error });
    }
    try {
      const free = Array.from({ length: Math.min(UPLOAD_BUFFERS, Math.ceil(size / chunkBytes)) }, () => Buffer.allocUnsafe(chunkBytes));
      let writeError: Error | null = null;
      while (this.passed < size) {
        let buffer = free.pop();
        while (buffer === undefined && !this.stopped && writeError === null) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          buffer = free.pop();
        }
        if (writeError !== null) throw writeError;
        if (buffer === undefined || this.stopped) return;
        const length = await readSome(handle, buffer, Math.min(chunkBytes, size - this.passed), this.passed, size);
        // with Content-Length, the last byte completes the body for the hub: check the size before it goes
        if (this.passed + length === size) await assertNoMore(handle, size);
        if (this.stopped) return;
        const chunk = buffer.subarray(0, length);
        this.passed += length;
        this.body.onData(chunk);
        const used = buffer;
        this.request.write(chunk, (error) => {
          if (error) writeError = error;
          free.push(used);
          this.signal();
        });
      }
      if (!this.stopped) this.request.end();
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  private get stopped(): boolean {
    return this.held || this.closed;
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/** A file that has more than the announced size now changed while it was sent: SourceError. */
async function assertNoMore(handle: FileHandle, size: number): Promise<void> {
  let bytesRead: number;
  try {
    ({ bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, size));
  } catch (error) {
    throw new SourceError((error as Error).message, { cause: error });
  }
  if (bytesRead > 0) throw new SourceError(`the file has grown past the ${size} bytes it had when the upload started (did it change while it was sent?)`);
}

/** Reads up to `length` bytes at `position`; a file that ends before `size` is a SourceError. */
async function readSome(handle: FileHandle, buffer: Buffer, length: number, position: number, size: number): Promise<number> {
  let bytesRead: number;
  try {
    ({ bytesRead } = await handle.read(buffer, 0, length, position));
  } catch (error) {
    throw new SourceError((error as Error).message, { cause: error });
  }
  if (bytesRead === 0) throw new SourceError(`the file ended after ${position} of its ${size} bytes (did it change while it was sent?)`);
  return bytesRead;
}

function fileReadFailed(error: Error, path: string): CliError {
  return new CliError('file-read-failed', `reading ${path} failed while sending it: ${error.message}`, {
    exitCode: EXIT.failed,
    details: { file: path, cause: errorCodeOf(error) ?? errorCodeOf(error.cause) ?? 'unknown' },
    cause: error,
  });
}

function headersFor(options: TransportOptions, body: RequestBody, extra: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ...extra, Accept: 'application/json', 'User-Agent': options.userAgent };
  if (options.apiKey !== undefined) headers['X-Api-Key'] = options.apiKey;
  if (body.kind === 'buffer') {
    headers['Content-Type'] = body.contentType;
    headers['Content-Length'] = body.data.length;
  } else if (body.kind === 'file' || body.kind === 'announce') {
    headers['Content-Type'] = body.contentType;
    headers['Content-Length'] = body.size;
  }
  if (body.kind === 'announce') headers.Expect = '100-continue';
  return headers;
}

/**
 * One request/response exchange. The hub's answer always wins over send-side socket errors:
 * once it has answered, the upload stops, and a reset that follows a complete answer is ignored.
 */
function exchange(options: TransportOptions, method: string, url: URL, body: RequestBody, extraHeaders: OutgoingHttpHeaders = {}): Promise<UploadResponse> {
  return new Promise<UploadResponse>((resolve, reject) => {
    let request: ClientRequest;
    try {
      const send = url.protocol === 'https:' ? https.request : http.request;
      request = send(url, { method, headers: headersFor(options, body, extraHeaders) });
    } catch (error) {
      reject(networkError(error, options.hubUrl));
      return;
    }
    let settled = false;
    let sourceError: Error | undefined;
    let response: IncomingMessage | undefined;
    const sender = body.kind === 'file' ? new FileSender(body, request) : undefined;
    // The hub may answer before our 'finish' event: what counts is that every byte went out.
    const bodyComplete = (): boolean => (body.kind === 'announce' ? false : sender === undefined || sender.passedAll);

    const fail = (error: CliError): void => {
      if (settled) return;
      settled = true;
      request.destroy();
      reject(error);
    };
    const socketFailed = (error: unknown): void => {
      if (sourceError !== undefined && body.kind === 'file') fail(fileReadFailed(sourceError, body.path));
      // A complete answer is already parsed; its 'end' still comes and settles the exchange.
      else if (response?.complete !== true) fail(networkError(error, options.hubUrl));
    };

    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = () => fail(interrupted());
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      request.on('close', () => signal.removeEventListener('abort', onAbort));
    }
    request.setTimeout(options.timeoutMs, () => fail(timeoutError(options.hubUrl, options.timeoutMs)));
    request.on('error', socketFailed);
    request.on('response', (res) => {
      response = res;
      sender?.hold();
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > MAX_RESPONSE_BYTES) {
          fail(badResponse(`the hub's answer is larger than ${MAX_RESPONSE_BYTES} bytes`, { status: res.statusCode }));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', socketFailed);
      res.on('end', () => {
        if (settled) return;
        settled = true;
        const complete = bodyComplete();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bodyComplete: complete });
        // Stop an upload the hub no longer wants; a finished exchange keeps its keep-alive socket.
        if (!complete) request.destroy();
      });
    });

    if (body.kind === 'none') request.end();
    else if (body.kind === 'buffer') request.end(body.data);
    else if (body.kind === 'announce') request.flushHeaders();
    else if (sender !== undefined) {
      sender.run().catch((error: unknown) => {
        if (error instanceof SourceError) sourceError = error;
        if (settled) return;
        if (sourceError !== undefined) fail(fileReadFailed(sourceError, body.path));
        // Otherwise the request's own 'error' (or an answer already on its way) decides.
        else if (response === undefined) setImmediate(() => fail(networkError(error, options.hubUrl)));
      });
    }
  });
}
