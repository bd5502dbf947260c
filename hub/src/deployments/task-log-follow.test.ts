import { once } from 'node:events';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskLogEntrySchema, formatLogEntry, type TaskLogEntry } from '@cuttle/shared';
import { DeploymentFixture } from './testing/deployment-fixture.js';

const settle = async (turns = 5) => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('following a task log', () => {
  let f: DeploymentFixture;
  let base: string;
  const headers = () => ({ 'X-Api-Key': f.adminKey });

  beforeEach(async () => {
    f = new DeploymentFixture();
    f.environment('Test');
    f.machine('web-1', ['web'], ['Test']);
    f.pkg('Acme.Web', '1.0.0');
    f.project('Shop', [{ name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'] }]);
    f.release('Shop', '1.0.0');
    base = await f.listen();
  });
  afterEach(async () => {
    await f.close();
  });

  const startHeld = async () => {
    const deployment = f.deployments.create({ project: 'Shop', release: '1.0.0', environment: 'Test' }, 'tester');
    await f.jobs.waitForRuns(1);
    return { deployment, run: f.jobs.runs[0]! };
  };
  const say = (run: { handlers: { onLog: (lines: Array<{ at: string; stream: 'stdout'; text: string }>) => void } }, text: string) =>
    run.handlers.onLog([{ at: '2026-01-01T00:00:00.000Z', stream: 'stdout', text }]);

  it('hands over every line exactly once when lines arrive while the stored part is being sent', async () => {
    const { deployment, run } = await startHeld();
    for (let i = 0; i < 5; i++) say(run, `before ${i}`);
    const seen: TaskLogEntry[] = [];
    let extra = 0;
    const followed = f.tasks.followLog(
      deployment.taskId,
      0,
      {
        write: (entries) => {
          seen.push(...entries);
          // more output arrives while the stored pages are still being read
          if (extra < 4) say(run, `during ${extra++}`);
        },
      },
      undefined,
      2,
    );
    await settle(20);
    say(run, 'after');
    run.finish();
    await f.runner.whenDone(deployment.taskId);
    await followed;
    const stored = f.tasks.readLog(deployment.taskId, 0, 1000);
    expect(seen.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(seen.map((e) => e.text)).toEqual(stored.map((e) => e.text));
    expect(seen.map((e) => e.text)).toContain('during 3');
    expect(seen.map((e) => e.text)).toContain('after');
  });

  it('reads the next page only once the sink has taken the last one: a slow follower holds one page', async () => {
    const { deployment, run } = await startHeld();
    for (let i = 0; i < 10; i++) run.handlers.onLog(Array.from({ length: 100 }, (_, j) => ({ at: '2026-01-01T00:00:00.000Z', stream: 'stdout' as const, text: `line ${i * 100 + j}` })));
    const pages: TaskLogEntry[][] = [];
    let release: () => void = () => undefined;
    const stop = new AbortController();
    const followed = f.tasks.followLog(
      deployment.taskId,
      0,
      {
        write: (entries) => {
          pages.push(entries);
          return new Promise<void>((resolve) => (release = resolve));
        },
      },
      stop.signal,
      100,
    );
    await settle(20);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    release();
    await settle(20);
    expect(pages).toHaveLength(2);
    expect(pages[1]![0]!.seq).toBe(101);
    // a follower that goes away stops reading, and unsubscribes
    stop.abort();
    release();
    await followed;
    expect(pages).toHaveLength(2);
    const subscribers = (f.area.tasks as unknown as { log: { subscribers: Map<number, Set<unknown>> } }).log.subscribers.get(deployment.taskId)?.size ?? 0;
    expect(subscribers).toBe(0);
    run.finish();
    await f.runner.whenDone(deployment.taskId);
  });

  it('streams the stored and the live lines over HTTP as NDJSON, none lost or doubled, and ends with the task', async () => {
    const { deployment, run } = await startHeld();
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        say(run, `line ${written++}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await settle(20);
    const response = await fetch(`${base}/api/v1/tasks/${deployment.taskId}/log?follow=true&format=json`, { headers: headers() });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const body = response.text();
    await settle(20);
    writing = false;
    await writer;
    run.finish();
    await f.runner.whenDone(deployment.taskId);
    const entries = (await body)
      .trim()
      .split('\n')
      .map((line) => TaskLogEntrySchema.parse(JSON.parse(line)));
    const stored = f.tasks.readLog(deployment.taskId, 0, 10_000);
    expect(entries.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.at(-1)?.text).toContain('Deployment succeeded');
    expect(written).toBeGreaterThan(20);
  });

  it('reads a big stored log only as fast as a client that does not read takes it, and keeps /healthz answering', async () => {
    const { deployment, run } = await startHeld();
    const text = 'x'.repeat(2000);
    for (let i = 0; i < 12; i++) run.handlers.onLog(Array.from({ length: 1000 }, () => ({ at: '2026-01-01T00:00:00.000Z', stream: 'stdout' as const, text })));
    const log = (f.area.tasks as unknown as { log: { read: (id: number, since: number, limit: number) => TaskLogEntry[] } }).log;
    const read = log.read.bind(log);
    let pagesRead = 0;
    log.read = (id, since, limit) => {
      const page = read(id, since, limit);
      if (page.length > 0) pagesRead++;
      return page;
    };
    // 12 pages of about 2 MB are stored; the client never reads its socket, which holds a few MB at most
    const { port } = new URL(base);
    const socket = net.connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.pause();
    socket.write(`GET /api/v1/tasks/${deployment.taskId}/log?follow=true HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: ${f.adminKey}\r\n\r\n`);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(pagesRead).toBeGreaterThan(0);
    expect(pagesRead).toBeLessThan(8);
    socket.destroy();
    run.finish();
    await f.runner.whenDone(deployment.taskId);
  });

  it('answers text by default, NDJSON on Accept, and starts after ?since', async () => {
    const { deployment, run } = await startHeld();
    say(run, 'hello');
    run.finish();
    await f.runner.whenDone(deployment.taskId);
    const stored = f.tasks.readLog(deployment.taskId, 0, 1000);

    const text = await fetch(`${base}/api/v1/tasks/${deployment.taskId}/log`, { headers: headers() });
    expect(text.headers.get('content-type')).toContain('text/plain');
    expect(await text.text()).toBe(stored.map((e) => `${formatLogEntry(e)}\n`).join(''));

    const ndjson = await fetch(`${base}/api/v1/tasks/${deployment.taskId}/log?since=2`, { headers: { ...headers(), Accept: 'application/x-ndjson' } });
    const lines = (await ndjson.text()).trim().split('\n').map((l) => TaskLogEntrySchema.parse(JSON.parse(l)));
    expect(lines.map((e) => e.seq)).toEqual(stored.filter((e) => e.seq > 2).map((e) => e.seq));

    // a follow of a finished task sends what is stored and ends
    const followed = await fetch(`${base}/api/v1/tasks/${deployment.taskId}/log?follow=true&since=1`, { headers: headers() });
    expect((await followed.text()).trim().split('\n')).toHaveLength(stored.length - 1);

    const missing = await fetch(`${base}/api/v1/tasks/999/log?follow=true`, { headers: headers() });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('task-not-found');
    const bad = await fetch(`${base}/api/v1/tasks/${deployment.taskId}/log?since=-1`, { headers: headers() });
    expect(bad.status).toBe(400);
  });

  it('unsubscribes a follower whose client goes away', async () => {
    const { deployment, run } = await startHeld();
    const controller = new AbortController();
    const response = await fetch(`${base}/api/v1/tasks/${deployment.taskId}/log?follow=true`, { headers: headers(), signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    const subscribers = () => (f.area.tasks as unknown as { log: { subscribers: Map<number, Set<unknown>> } }).log.subscribers.get(deployment.taskId)?.size ?? 0;
    expect(subscribers()).toBe(1);
    controller.abort();
    await reader.read().catch(() => undefined);
    for (let i = 0; i < 50 && subscribers() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(subscribers()).toBe(0);
    say(run, 'nobody listens');
    run.finish();
    await f.runner.whenDone(deployment.taskId);
  });
});
