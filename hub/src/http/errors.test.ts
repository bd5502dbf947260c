import express from 'express';
import { once } from 'node:events';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CuttleError } from '@cuttle/shared';
import { clientError, errorHandler, notFoundHandler } from './errors.js';

const log = pino({ level: 'silent' });
let server: Server;
let base = '';
let thrown: unknown;

beforeAll(async () => {
  const app = express();
  app.get('/items/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.post('/json', express.json({ limit: 100 }), (req, res) => {
    res.json({ got: req.body as unknown });
  });
  app.get('/throw', () => {
    throw thrown;
  });
  app.use(notFoundHandler);
  app.use(errorHandler(log));
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function call(path: string, init?: RequestInit): Promise<{ status: number; body: { error: { code: string; message: string; details?: unknown } } }> {
  const response = await fetch(base + path, init);
  return { status: response.status, body: (await response.json()) as { error: { code: string; message: string; details?: unknown } } };
}

const throwing = async (error: unknown) => {
  thrown = error;
  return call('/throw');
};

describe('errorHandler', () => {
  it('answers bad percent-encoding in a path parameter with 400 invalid-request, not 500', async () => {
    const errorLog = vi.spyOn(log, 'error');
    expect(await call('/items/ok%20id')).toBeDefined();
    const { status, body } = await call('/items/%E0%A4%A');
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid-request');
    expect(errorLog).not.toHaveBeenCalled();
  });

  it('maps invalid JSON, a too large body and an unsupported encoding', async () => {
    const errorLog = vi.spyOn(log, 'error');
    const post = (body: string, headers: Record<string, string> = {}) =>
      call('/json', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    expect(await post('{"a":')).toMatchObject({ status: 400, body: { error: { code: 'invalid-json' } } });
    expect(await post(JSON.stringify({ a: 'x'.repeat(200) }))).toMatchObject({ status: 413, body: { error: { code: 'body-too-large' } } });
    expect(await post('{}', { 'content-encoding': 'x-unknown' })).toMatchObject({ status: 415, body: { error: { code: 'unsupported-media-type' } } });
    expect(await post('{}', { 'content-type': 'application/json; charset=x-unknown' })).toMatchObject({ status: 415, body: { error: { code: 'unsupported-media-type' } } });
    expect(errorLog).not.toHaveBeenCalled();
  });

  it('maps a body the client aborted to upload-incomplete, logged at debug', async () => {
    const errorLog = vi.spyOn(log, 'error');
    const debugLog = vi.spyOn(log, 'debug');
    const req = httpRequest(`${base}/json`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '80' } });
    req.on('error', () => {});
    req.write('{"a":');
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
    await vi.waitFor(() => expect(debugLog).toHaveBeenCalledWith(expect.objectContaining({ code: 'upload-incomplete' }), 'client error'), { timeout: 2000 });
    expect(errorLog).not.toHaveBeenCalled();
  });

  it.each<[string, unknown, number, string]>([
    ['request.aborted', Object.assign(new Error('request aborted'), { type: 'request.aborted', status: 400 }), 400, 'upload-incomplete'],
    ['request.size.invalid', Object.assign(new Error('request size did not match content length'), { type: 'request.size.invalid', status: 400 }), 400, 'invalid-request'],
    ['encoding.unsupported', Object.assign(new Error('unsupported content encoding "x"'), { type: 'encoding.unsupported', status: 415 }), 415, 'unsupported-media-type'],
    ['a URIError without status', new URIError('URI malformed'), 400, 'invalid-request'],
    ['a plain 400', Object.assign(new Error('nope'), { status: 400 }), 400, 'invalid-request'],
    ['a 401 statusCode', Object.assign(new Error('who are you'), { statusCode: 401 }), 401, 'unauthorized'],
    ['a 404', Object.assign(new Error('gone'), { status: 404 }), 404, 'not-found'],
    ['another 4xx', Object.assign(new Error('range'), { status: 416, expose: true }), 400, 'invalid-request'],
  ])('maps %s to a 4xx with a stable code', async (_title, error, status, code) => {
    const errorLog = vi.spyOn(log, 'error');
    expect(await throwing(error)).toMatchObject({ status, body: { error: { code } } });
    expect(errorLog).not.toHaveBeenCalled();
  });

  it('does not show the message of an error marked expose: false', () => {
    const refused = clientError(Object.assign(new Error('secret detail'), { status: 400, expose: false }));
    expect(refused).toBeInstanceOf(CuttleError);
    expect(refused?.message).not.toContain('secret');
  });

  it.each<[string, unknown]>([
    ['an unknown Error', new Error('database exploded at /var/lib/secret')],
    ['a 500 http error', Object.assign(new Error('stream encoding should not be set'), { type: 'stream.encoding.set', status: 500 })],
    ['a status outside 4xx', Object.assign(new Error('odd'), { status: 302 })],
    ['a thrown string', 'boom'],
  ])('answers %s with a bare 500 internal, logged as an error', async (_title, error) => {
    const errorLog = vi.spyOn(log, 'error');
    const { status, body } = await throwing(error);
    expect(status).toBe(500);
    expect(body).toEqual({ error: { code: 'internal', message: 'An unexpected error occurred; the hub log has the details.' } });
    expect(JSON.stringify(body)).not.toMatch(/secret|stack|at .*\.ts/);
    expect(errorLog).toHaveBeenCalledOnce();
  });

  it('still answers CuttleErrors and unknown routes as before', async () => {
    expect(await throwing(new CuttleError('package-not-found', 'No such package.'))).toMatchObject({ status: 404, body: { error: { code: 'package-not-found' } } });
    expect(await call('/nowhere')).toMatchObject({ status: 404, body: { error: { code: 'not-found' } } });
  });
});

describe('logging a refused body', () => {
  it('logs at debug the error type, status and message, never the raw body', async () => {
    const lines: string[] = [];
    const debugLog = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const app = express();
    app.post('/json', express.json(), (_req, res) => void res.json({}));
    app.use(errorHandler(debugLog));
    const local = app.listen(0, '127.0.0.1');
    await once(local, 'listening');
    try {
      const port = (local.address() as AddressInfo).port;
      const response = await fetch(`http://127.0.0.1:${port}/json`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"password": "hunter2-very-secret", oops}',
      });
      expect(response.status).toBe(400);
      const logged = lines.join('\n');
      expect(logged).toContain('client error');
      expect(logged).toContain('entity.parse.failed');
      expect(logged).toContain('"status":400');
      expect(logged).not.toContain('hunter2-very-secret');
    } finally {
      local.closeAllConnections();
      await new Promise((resolve) => local.close(resolve));
    }
  });
});
