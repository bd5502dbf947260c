import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { badResponse, interrupted, type CliError } from './cli-error.js';
import { expectStatus } from './hub-answer.js';
import type { TransportOptions } from './hub-transport.js';
import { networkError, timeoutError } from './network-errors.js';

/** A line longer than this (without its line break) is refused: log entries are at most a few KiB. */
export const MAX_STREAM_LINE_CHARS = 1024 * 1024;
/** Error answers are read up to this size. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface LineStreamRequest {
  url: URL;
  /** Sent as `Accept`; the answer's Content-Type must name it. */
  accept: string;
  /** Give up (`hub-timeout`, exit 3) when no byte arrives for this long. */
  idleMs: number;
  /** Stops the stream with `interrupted` (besides the transport's own signal). */
  signal?: AbortSignal;
  /** The hub answered 200 with the right content type. */
  onOpen?(): void;
  /** Each complete line, without its line break, in order. Throwing stops the stream with that error. */
  onLine(line: string): void;
}

/**
 * A GET whose answer is read line by line as it arrives (an NDJSON log that may stay open for as
 * long as a deployment runs). Resolves when the hub ends the answer cleanly; the last line counts
 * even without a line break then. A connection that breaks mid-answer rejects (`connection-lost`)
 * and the half line it held is dropped, so a caller that resumes from the last complete line
 * neither loses nor doubles one.
 */
export function streamLines(options: TransportOptions, request: LineStreamRequest): Promise<void> {
  const signals = [options.signal, request.signal].filter((signal): signal is AbortSignal => signal !== undefined);
  const signal = signals.length === 0 ? undefined : AbortSignal.any(signals);
  return new Promise<void>((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { Accept: request.accept, 'User-Agent': options.userAgent };
    if (options.apiKey !== undefined) headers['X-Api-Key'] = options.apiKey;
    let req: http.ClientRequest;
    try {
      req = (request.url.protocol === 'https:' ? https.request : http.request)(request.url, { method: 'GET', headers });
    } catch (error) {
      reject(networkError(error, options.hubUrl));
      return;
    }
    let settled = false;
    /** Settles once: resolves without an error, otherwise drops the connection and rejects. */
    const finish = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else {
        req.destroy();
        reject(error);
      }
    };
    const fail = (error: unknown): void => finish(error);
    const onAbort = (): void => fail(interrupted());

    if (signal !== undefined) {
      if (signal.aborted) {
        fail(interrupted());
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    }
    req.setTimeout(request.idleMs, () => fail(timeoutError(options.hubUrl, request.idleMs)));
    req.on('error', (error) => fail(networkError(error, options.hubUrl)));
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        readErrorAnswer(res).then(
          (body) => {
            try {
              expectStatus({ status: res.statusCode ?? 0, headers: res.headers, body }, [200], options.apiKey !== undefined);
            } catch (error) {
              fail(error);
            }
          },
          (error: unknown) => fail(networkError(error, options.hubUrl)),
        );
        return;
      }
      const type = res.headers['content-type'] ?? '';
      if (!type.toLowerCase().includes(request.accept)) {
        fail(badResponse(`the hub answered with ${type === '' ? 'no content type' : type} where ${request.accept} was expected`, { status: 200, contentType: type }));
        return;
      }
      request.onOpen?.();
      readLines(res, request.onLine, (error) => networkError(error, options.hubUrl)).then(
        () => finish(),
        (error: unknown) => fail(error),
      );
    });
    req.end();
  });
}

async function readErrorAnswer(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of res) {
    const buffer = chunk as Buffer;
    length += buffer.length;
    if (length > MAX_ERROR_BODY_BYTES) break;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Splits the answer into lines; a connection that breaks first rejects with `broken(error)`,
 * an error thrown by `onLine` with itself.
 */
function readLines(res: IncomingMessage, onLine: (line: string) => void, broken: (error: unknown) => CliError): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    let done = false;
    const stop = (error?: unknown): void => {
      if (done) return;
      done = true;
      if (error === undefined) resolve();
      else {
        res.destroy();
        reject(error);
      }
    };
    const deliver = (text: string): void => {
      pending += text;
      let newline = pending.indexOf('\n');
      while (newline !== -1 && !done) {
        const line = pending.slice(0, newline).replace(/\r$/, '');
        pending = pending.slice(newline + 1);
        if (line !== '') onLine(line);
        newline = pending.indexOf('\n');
      }
      if (pending.length > MAX_STREAM_LINE_CHARS) throw badResponse(`the hub sent a line longer than ${MAX_STREAM_LINE_CHARS} characters`, {});
    };
    res.on('data', (chunk: Buffer) => {
      try {
        deliver(decoder.write(chunk));
      } catch (error) {
        stop(error);
      }
    });
    res.on('end', () => {
      try {
        const rest = (pending + decoder.end()).replace(/\r$/, '');
        pending = '';
        if (!res.complete) throw broken(Object.assign(new Error('the answer ended before it was complete'), { code: 'ECONNRESET' }));
        if (rest !== '') onLine(rest);
        stop();
      } catch (error) {
        stop(error);
      }
    });
    res.on('error', (error) => stop(broken(error)));
    // A connection that closes without 'end' broke mid-answer.
    res.on('close', () => stop(broken(Object.assign(new Error('the connection closed mid-answer'), { code: 'ECONNRESET' }))));
  });
}
