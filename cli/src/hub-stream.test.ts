import { describe, expect, it, afterEach } from 'vitest';
import { HubClient } from './hub-client.js';
import { sendError, startFakeHub, type FakeHandler, type FakeHub } from './test-support/fake-hub.js';
import { failure } from './test-support/test-io.js';
import type { TaskLogEntry } from '@cuttle/shared';

const entry = (seq: number, text: string): TaskLogEntry => ({ seq, at: '2025-02-01T09:00:00.000Z', machine: 'web-01', stream: 'stdout', text });

/** HubClient.readTaskLog over streamLines: NDJSON read line by line as it arrives. */
describe('reading a task log stream', () => {
  let hub: FakeHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });
  async function read(handler: FakeHandler): Promise<{ entries: TaskLogEntry[]; run: Promise<void> }> {
    hub = await startFakeHub(handler);
    const client = new HubClient({ hubUrl: new URL(hub.url), apiKey: 'k', timeoutMs: 5_000, userAgent: 'cuttle-cli/test' });
    const entries: TaskLogEntry[] = [];
    return { entries, run: client.readTaskLog(12, { since: 0, follow: false, onEntry: (e) => entries.push(e) }) };
  }

  it('splits lines across chunks (a UTF-8 character cut in two, CRLF, a last line without a break)', async () => {
    const body = Buffer.from(`${JSON.stringify(entry(1, 'grüße'))}\r\n\n${JSON.stringify(entry(2, 'ok'))}`);
    const cut = body.indexOf(Buffer.from('ü')) + 1;
    const { entries, run } = await read((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8' });
      res.write(body.subarray(0, cut));
      setTimeout(() => res.end(body.subarray(cut)), 20);
    });
    await run;
    expect(entries).toEqual([entry(1, 'grüße'), entry(2, 'ok')]);
  });

  it('a connection broken mid-line rejects with connection-lost (exit 3) after the whole lines only', async () => {
    const { entries, run } = await read((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.write(`${JSON.stringify(entry(1, 'a'))}\n${JSON.stringify(entry(2, 'b')).slice(0, 10)}`);
      setTimeout(() => res.destroy(), 20);
    });
    expect(await failure(run)).toMatchObject({ exitCode: 3, code: 'connection-lost' });
    expect(entries).toEqual([entry(1, 'a')]);
  });

  it('a text answer, a malformed entry and an error status are reported as such', async () => {
    const text = await read((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('2025-02-01T09:00:00.000Z info   [hub] hello\n');
    });
    expect(await failure(text.run)).toMatchObject({ exitCode: 1, code: 'bad-response', message: 'the hub answered with text/plain where application/x-ndjson was expected' });
    await hub?.close();
    const malformed = await read((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.end('{"seq":0}\n');
    });
    expect(await failure(malformed.run)).toMatchObject({ exitCode: 1, code: 'bad-response' });
    await hub?.close();
    const missing = await read((req, res) => {
      req.resume();
      sendError(res, 404, 'task-not-found', 'No task has the id 12.');
    });
    expect(await failure(missing.run)).toEqual({ exitCode: 1, code: 'task-not-found', message: 'No task has the id 12.' });
  });
});
