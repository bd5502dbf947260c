import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { TaskStateSchema, formatLogEntry, type TaskLogEntry } from '@cuttle/shared';
import type { TaskService } from '../../deployments/task-service.js';
import { principalName, requireScope } from '../auth.js';
import { parseWith } from '../errors.js';
import { IdParamSchema } from './deployments-routes.js';

const ListQuerySchema = z.object({ state: TaskStateSchema.optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }).strict();
const LogQuerySchema = z
  .object({
    since: z.coerce.number().int().nonnegative().optional(),
    follow: z.enum(['true', 'false', '1', '0']).optional(),
    format: z.enum(['text', 'json']).optional(),
  })
  .strict();
const NDJSON = 'application/x-ndjson';
/** Stored log lines are read and written in pages of this many. */
const LOG_PAGE = 1000;
/** A quiet NDJSON follow gets an empty line this often, so that clients and proxies see it is alive. */
export const FOLLOW_KEEPALIVE_MS = 30_000;

export function tasksRoutes(tasks: TaskService): Router {
  const router = Router();
  router.use('/tasks', requireScope('admin'));
  const idParam = (raw: unknown) => parseWith(IdParamSchema, raw, 'task id');

  router.get('/tasks', (req, res) => {
    res.json({ items: tasks.list(parseWith(ListQuerySchema, req.query, 'query')) });
  });
  router.get('/tasks/:id', (req, res) => {
    res.json(tasks.get(idParam(req.params.id)));
  });
  router.post('/tasks/:id/cancel', (req, res) => {
    res.status(202).json(tasks.cancel(idParam(req.params.id), principalName(req)));
  });

  /**
   * The log as text (one formatLogEntry line each) or NDJSON (one TaskLogEntry each, with
   * `Accept: application/x-ndjson` or `?format=json`); `since` skips lines up to that number;
   * `follow` keeps the response open and sends each new line until the task ends.
   */
  router.get('/tasks/:id/log', async (req, res) => {
    const id = idParam(req.params.id);
    const query = parseWith(LogQuerySchema, req.query, 'query');
    const json = query.format === 'json' || (query.format === undefined && req.accepts(['text/plain', NDJSON]) === NDJSON);
    const since = query.since ?? 0;
    const render = (entries: TaskLogEntry[]) => entries.map((e) => `${json ? JSON.stringify(e) : formatLogEntry(e)}\n`).join('');
    tasks.get(id); // 404 before anything is sent
    res.status(200).type(json ? NDJSON : 'text/plain; charset=utf-8').set('Cache-Control', 'no-store');

    if (query.follow === 'true' || query.follow === '1') {
      res.set('X-Accel-Buffering', 'no');
      res.flushHeaders();
      await follow(req, res, tasks, id, since, render, json);
      return;
    }
    // page by page, each only once the client took the last, with a turn of the event loop between
    let last = since;
    for (;;) {
      const page = tasks.readLog(id, last, LOG_PAGE);
      if (page.length === 0) break;
      last = page.at(-1)!.seq;
      if (!res.write(render(page))) await drainOrClose(res);
      if (res.destroyed) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    res.end();
  });
  return router;
}

async function follow(req: Request, res: Response, tasks: TaskService, id: number, since: number, render: (entries: TaskLogEntry[]) => string, json: boolean): Promise<void> {
  const stop = new AbortController();
  const keepalive = json ? setInterval(() => res.write('\n'), FOLLOW_KEEPALIVE_MS) : null;
  keepalive?.unref();
  // a client that goes away stops the follow
  const abort = () => stop.abort();
  res.on('close', abort);
  req.on('error', abort);
  try {
    await tasks.followLog(
      id,
      since,
      {
        write: (entries) => {
          if (res.destroyed) return stop.abort();
          if (!res.write(render(entries))) return drainOrClose(res);
        },
      },
      stop.signal,
      LOG_PAGE,
    );
  } catch {
    // the store went away (the hub is stopping): the client sees the stream end early and can resume with since
    res.destroy();
  } finally {
    if (keepalive) clearInterval(keepalive);
    res.off('close', abort);
    req.off('error', abort);
    if (!res.destroyed) res.end();
  }
}

function drainOrClose(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
