import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';

/**
 * A hand-driven tentacle for testing the hub's tentacle port: registration and websocket
 * connections with tokens and messages of the test's choosing (including malicious ones).
 */
export interface TentacleKeys {
  privateKey: KeyObject;
  publicKeyPem: string;
}

export function makeKeys(): TentacleKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export function tlsOptionsFor(dataDir: string): https.RequestOptions {
  const ca = readFileSync(path.join(dataDir, 'tls', 'hub-cert.pem'), 'utf8');
  return { ca, checkServerIdentity: () => undefined };
}

export async function registerRaw(
  port: number,
  dataDir: string,
  body: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: { error?: { code: string; message: string }; name?: string; environments?: string[] } }> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/tentacle/v1/register', method: 'POST', headers: { 'Content-Type': contentType }, ...tlsOptionsFor(dataDir) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export function connectToken(name: string, key: KeyObject | string, options: jwt.SignOptions = {}): string {
  return jwt.sign({}, key, { algorithm: 'ES256', expiresIn: 300, issuer: name, subject: name, audience: 'cuttle-hub', ...options });
}

export interface Connected {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  next: (type?: string, timeoutMs?: number) => Promise<Record<string, unknown>>;
}

/** Opens the websocket; resolves when open, or rejects with the upgrade's HTTP status. */
export function connect(port: number, dataDir: string, token: string | null): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
    const ws = new WebSocket(`wss://127.0.0.1:${port}/tentacle/v1/connect`, { headers, perMessageDeflate: false, ...tlsOptionsFor(dataDir) });
    const messages: Array<Record<string, unknown>> = [];
    const waiters: Array<() => void> = [];
    ws.on('message', (data) => {
      messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
      for (const w of waiters.splice(0)) w();
    });
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.on('error', (error) => reject(error));
    ws.on('open', () => {
      let seen = 0;
      const next = async (type?: string, timeoutMs = 10_000) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          while (seen < messages.length) {
            const message = messages[seen++]!;
            if (type === undefined || message.type === type) return message;
          }
          if (Date.now() > deadline) throw new Error(`no ${type ?? ''} message within ${timeoutMs} ms`);
          await new Promise<void>((r) => {
            waiters.push(r);
            setTimeout(r, 100);
          });
        }
      };
      resolve({ ws, messages, closed, next });
    });
  });
}

export function hello(protocolVersion = 1): string {
  return JSON.stringify({
    type: 'hello',
    protocolVersion,
    tentacleVersion: '0.0.0-test',
    os: { platform: 'linux', release: 'test', arch: 'x64', hostname: 'fake' },
    freeDiskBytes: 1234567,
  });
}
