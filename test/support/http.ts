import { readdir } from 'node:fs/promises';
import path from 'node:path';
import http from 'node:http';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** One API call with fetch; JSON bodies are parsed, other bodies returned as text. */
export async function api<T = Record<string, unknown>>(
  base: string,
  route: string,
  options: { method?: string; key?: string | null; json?: unknown; body?: RequestInit['body']; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers['X-Api-Key'] = options.key;
  let body = options.body;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await fetch(`${base}${route}`, { method: options.method ?? 'GET', headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('application/json') && text !== '') parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** Uploads bytes as a raw body, the way cuttle push does. */
export function uploadRaw(base: string, key: string, fileName: string, bytes: Buffer, query = ''): Promise<ApiResponse<{ error?: { code: string }; sha256?: string; id?: string; version?: string }>> {
  return api(base, `/api/v1/packages?filename=${encodeURIComponent(fileName)}${query}`, {
    method: 'POST',
    key,
    body: bytes,
    headers: { 'Content-Type': 'application/zip' },
  });
}

/** Every file under the package store and the temp folder, for "nothing changed" checks. */
export async function storeFiles(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else found.push(path.relative(dataDir, full));
    }
  };
  await walk(path.join(dataDir, 'packages'));
  await walk(path.join(dataDir, 'tmp'));
  return found.sort();
}

/**
 * Sends a request by hand: headers, then the given body parts, then either waits for
 * the answer or cuts the connection. For bodies that lie about their length or stop midway.
 */
export function rawRequest(
  port: number,
  head: string,
  parts: Buffer[],
  options: { destroyAfterMs?: number } = {},
): Promise<{ status: number | null; body: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = new http.Agent().createConnection({ host: '127.0.0.1', port }, () => undefined) as import('node:net').Socket;
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(response);
      resolve({ status: match ? Number(match[1]) : null, body: response.split('\r\n\r\n').slice(1).join('\r\n\r\n'), closed: true });
    });
    socket.on('connect', () => {
      socket.write(head);
      for (const part of parts) socket.write(part);
      if (options.destroyAfterMs !== undefined) setTimeout(() => socket.destroy(), options.destroyAfterMs);
    });
  });
}
