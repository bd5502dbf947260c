import type { ServerResponse } from 'node:http';
import {
  CreateDeploymentRequestSchema,
  FINISHED_TASK_STATES,
  RollbackRequestSchema,
  formatLogEntry,
  type Dashboard,
  type Deployment,
  type LogStream,
  type StatusRow,
  type Task,
  type TaskLogEntry,
  type TaskState,
  type TaskTarget,
} from '@cuttle/shared';
import { readJsonBody, release, sendError, sendJson, type FakeHandler } from './fake-hub.js';

/** What a test script does to a fake task between two polls. */
export interface FakeTaskControl {
  task: Task;
  log: TaskLogEntry[];
  /** Appends an entry and sends it to every follower at once. */
  append(machine: string | null, stream: LogStream, text: string): TaskLogEntry;
  /** Changes one target (and the task to running). */
  target(machine: string, patch: Partial<TaskTarget>): void;
  /** Ends the task; followers' answers end after their last entry. */
  finish(state: TaskState, error?: { code: string; message: string }): void;
}

export type ScriptStep = (task: FakeTaskControl) => void;

export interface FakeDeploymentsOptions {
  apiKey: string;
  /** Target machines of a deployment that names none. */
  machines?: string[];
  /**
   * How each new task progresses: before answering the Nth `GET /tasks/{id}`, step N runs (so a
   * waiting client sees every step). Past the last step the task stays as it is.
   */
  script?: ScriptStep[];
  /** The first follow connection breaks (mid-line) after this many entries. */
  dropFollowAfter?: number;
  /** Read `since=N` as "from N on" (the entry N again) instead of "after N". */
  sinceInclusive?: boolean;
  /** Releases of any project, newest first (for `--release latest`). */
  releases?: string[];
  /** What a rollback deploys and replaces; none: 409 no-previous-release. */
  rollback?: { release: string; from: string };
  status?: StatusRow[];
  dashboard?: Dashboard;
}

export interface FakeDeployments {
  handler: FakeHandler;
  /** Every JSON body received, in order. */
  bodies: unknown[];
  deployments: Deployment[];
  tasks: Map<number, FakeTaskControl>;
  /** The URL of every log request (to check `since=` and `follow=`). */
  logRequests: URL[];
}

const START = Date.parse('2025-02-01T09:00:00.000Z');

export function taskTarget(machine: string, overrides: Partial<TaskTarget> = {}): TaskTarget {
  return { machine, state: 'pending', step: null, phase: null, errorCode: null, error: null, bytesSent: 0, startedAt: null, finishedAt: null, ...overrides };
}

export function deployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: 7,
    taskId: 12,
    project: 'Acme',
    release: '1.4.0',
    environment: 'Test',
    machines: null,
    skipOffline: false,
    rollbackFrom: null,
    createdAt: '2025-02-01T09:00:00.000Z',
    createdBy: 'ci',
    ...overrides,
  };
}

export function task(overrides: Partial<Task> = {}): Task {
  return {
    id: 12,
    kind: 'deployment',
    description: 'Deploy Acme 1.4.0 to Test',
    state: 'queued',
    createdAt: '2025-02-01T09:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    errorCode: null,
    error: null,
    cancelRequested: false,
    deployment: deployment(),
    targets: [taskTarget('web-01'), taskTarget('web-02')],
    ...overrides,
  };
}

interface Follower {
  res: ServerResponse;
  since: number;
  ndjson: boolean;
  written: number;
  /** break after this many entries */
  dropAfter: number | undefined;
}

/**
 * A fake hub for deployments and tasks that answers like the real one: 201 deployments and
 * rollbacks (400 invalid-request, 409 no-previous-release), tasks that move on a script at each
 * poll, task logs as text or NDJSON from `since=`, followed until the task ends, 409
 * task-finished, 404 task-not-found, status and dashboard, 401 for another key.
 */
export function fakeDeployments(options: FakeDeploymentsOptions): FakeDeployments {
  const bodies: unknown[] = [];
  const deployments: Deployment[] = [];
  const tasks = new Map<number, FakeTaskControl>();
  const scripts = new Map<number, ScriptStep[]>();
  const followers = new Map<number, Set<Follower>>();
  const logRequests: URL[] = [];
  let dropsLeft = options.dropFollowAfter === undefined ? 0 : 1;
  let clock = START;
  const now = () => new Date((clock += 1000)).toISOString();

  const line = (follower: Follower, entry: TaskLogEntry): string => (follower.ndjson ? JSON.stringify(entry) : formatLogEntry(entry));

  /** Writes one entry to a follower; breaks its connection mid-line when it is due to drop. */
  const send = (follower: Follower, entry: TaskLogEntry): boolean => {
    if (entry.seq <= follower.since) return true;
    const text = `${line(follower, entry)}\n`;
    if (follower.dropAfter !== undefined && follower.written >= follower.dropAfter) {
      follower.res.write(text.slice(0, Math.floor(text.length / 2)));
      setTimeout(() => follower.res.destroy(), 5);
      return false;
    }
    follower.res.write(text);
    follower.written++;
    return true;
  };

  const createTask = (created: Deployment, machines: string[]): FakeTaskControl => {
    const control: FakeTaskControl = {
      task: task({
        id: created.taskId,
        description: `${created.rollbackFrom === null ? 'Deploy' : 'Roll back'} ${created.project} ${created.release} to ${created.environment}`,
        deployment: created,
        createdAt: created.createdAt,
        targets: machines.map((machine) => taskTarget(machine)),
      }),
      log: [],
      append(machine, stream, text) {
        const entry: TaskLogEntry = { seq: control.log.length + 1, at: now(), machine, stream, text };
        control.log.push(entry);
        for (const follower of followers.get(created.taskId) ?? []) {
          if (!send(follower, entry)) followers.get(created.taskId)?.delete(follower);
        }
        return entry;
      },
      target(machine, patch) {
        control.task = {
          ...control.task,
          state: control.task.state === 'queued' ? 'running' : control.task.state,
          startedAt: control.task.startedAt ?? now(),
          targets: control.task.targets.map((target) => (target.machine === machine ? { ...target, ...patch } : target)),
        };
      },
      finish(state, error) {
        control.task = { ...control.task, state, finishedAt: now(), errorCode: error?.code ?? null, error: error?.message ?? null };
        for (const follower of followers.get(created.taskId) ?? []) follower.res.end();
        followers.delete(created.taskId);
      },
    };
    tasks.set(created.taskId, control);
    scripts.set(created.taskId, [...(options.script ?? [])]);
    return control;
  };

  const create = (body: { project: string; release: string; environment: string; machines?: string[]; skipOffline?: boolean }, rollbackFrom: string | null): Deployment => {
    const id = deployments.length + 7;
    const created = deployment({
      id,
      taskId: id + 5,
      project: body.project,
      release: body.release,
      environment: body.environment,
      machines: body.machines ?? null,
      skipOffline: body.skipOffline ?? false,
      rollbackFrom,
      createdAt: now(),
    });
    deployments.push(created);
    createTask(created, body.machines ?? options.machines ?? ['web-01', 'web-02']);
    return created;
  };

  const handler: FakeHandler = async (req, res, { method, url }) => {
    if (req.headers['x-api-key'] !== options.apiKey) {
      req.resume();
      return sendError(res, 401, 'unauthorized', 'The API key is missing or unknown.');
    }
    const parts = url.pathname.replace(/^\/api\/v1\//, '').split('/').map(decodeURIComponent);
    const route = `${method} ${parts[0] ?? ''}`;
    if (route === 'POST deployments' || route === 'POST rollback') {
      const body = await readJsonBody(req);
      bodies.push(body);
      const parsed = (parts[0] === 'deployments' ? CreateDeploymentRequestSchema : RollbackRequestSchema).safeParse(body);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message }));
        return sendError(res, 400, 'invalid-request', 'The request is invalid.', { fields });
      }
      if (parts[0] === 'deployments') {
        const request = CreateDeploymentRequestSchema.parse(body);
        return sendJson(res, 201, create(request, null));
      }
      if (options.rollback === undefined) {
        return sendError(res, 409, 'no-previous-release', `There is no earlier successful release of ${parsed.data.project} in ${parsed.data.environment}.`);
      }
      return sendJson(res, 201, create({ ...parsed.data, release: options.rollback.release }, options.rollback.from));
    }
    if (method === 'GET' && parts[0] === 'status') {
      const rows = (options.status ?? []).filter((row) => ['project', 'environment', 'machine'].every((key) => {
        const wanted = url.searchParams.get(key);
        return wanted === null || row[key as 'project'] === wanted;
      }));
      return sendJson(res, 200, { items: rows });
    }
    if (method === 'GET' && parts[0] === 'dashboard') return sendJson(res, 200, options.dashboard ?? { environments: [], projects: [] });
    if (method === 'GET' && parts[0] === 'projects' && parts[2] === 'releases' && parts.length === 3) {
      return sendJson(res, 200, { items: (options.releases ?? []).map((version) => release({ project: parts[1] ?? '', version })) });
    }
    if (parts[0] !== 'tasks') return sendError(res, 404, 'not-found', `No route ${method} ${url.pathname}.`);
    const control = tasks.get(Number(parts[1]));
    if (control === undefined) {
      req.resume();
      return sendError(res, 404, 'task-not-found', `No task has the id ${parts[1] ?? ''}.`, { id: parts[1] });
    }
    const finished = FINISHED_TASK_STATES.includes(control.task.state);
    if (method === 'GET' && parts.length === 2) {
      if (!finished) scripts.get(control.task.id)?.shift()?.(control);
      return sendJson(res, 200, control.task);
    }
    if (method === 'POST' && parts[2] === 'cancel') {
      if (finished) return sendError(res, 409, 'task-finished', `Task ${control.task.id} has finished already (${control.task.state}).`);
      control.task = { ...control.task, cancelRequested: true };
      return sendJson(res, 202, control.task);
    }
    if (method === 'GET' && parts[2] === 'log') {
      logRequests.push(url);
      const ndjson = (req.headers.accept ?? '').includes('application/x-ndjson');
      const follower: Follower = {
        res,
        since: Math.max(0, Number(url.searchParams.get('since') ?? '0') - (options.sinceInclusive === true ? 1 : 0)),
        ndjson,
        written: 0,
        dropAfter: url.searchParams.get('follow') === 'true' && dropsLeft-- > 0 ? options.dropFollowAfter : undefined,
      };
      res.writeHead(200, { 'Content-Type': ndjson ? 'application/x-ndjson' : 'text/plain; charset=utf-8' });
      for (const entry of control.log) if (!send(follower, entry)) return;
      if (url.searchParams.get('follow') !== 'true' || FINISHED_TASK_STATES.includes(control.task.state)) {
        res.end();
        return;
      }
      const set = followers.get(control.task.id) ?? new Set<Follower>();
      set.add(follower);
      followers.set(control.task.id, set);
      res.on('close', () => set.delete(follower));
      return;
    }
    return sendError(res, 404, 'not-found', `No route ${method} ${url.pathname}.`);
  };
  return { handler, bodies, deployments, tasks, logRequests };
}

/** Two web servers deployed one after the other; the task succeeds at the third poll. */
export const SUCCESS_SCRIPT: ScriptStep[] = [
  (t) => {
    t.append(null, 'info', 'deploying Acme 1.4.0 to Test on 2 machines');
    t.target('web-01', { state: 'running', step: 'Deploy web', phase: 'transfer', bytesSent: 1536 });
  },
  (t) => {
    t.append('web-01', 'stdout', 'installing web-01');
    t.target('web-01', { state: 'success', phase: 'switch', bytesSent: 2048 });
    t.target('web-02', { state: 'running', step: 'Deploy web', phase: 'Deploy', bytesSent: 2048 });
  },
  (t) => {
    t.append('web-02', 'stdout', 'installing web-02');
    t.target('web-02', { state: 'success', phase: 'switch' });
    t.append(null, 'info', 'deployment succeeded');
    t.finish('success');
  },
];

/** web-01 succeeds, web-02's Deploy.sh exits 3: the task fails at the third poll. */
export const FAILURE_SCRIPT: ScriptStep[] = [
  (t) => {
    t.target('web-01', { state: 'running', step: 'Deploy web', phase: 'Deploy' });
    t.target('web-02', { state: 'running', step: 'Deploy web', phase: 'Deploy' });
    t.append('web-02', 'stdout', 'migrating');
  },
  (t) => {
    t.append('web-02', 'stderr', 'error: table exists');
    t.target('web-01', { state: 'success', phase: 'switch' });
    t.target('web-02', { state: 'failed', errorCode: 'script-failed', error: 'Deploy.sh exited with code 3' });
  },
  (t) => {
    t.append(null, 'error', 'deployment failed: 1 of 2 targets failed');
    t.finish('failed', { code: 'deployment-failed', message: '1 of 2 targets failed' });
  },
];

/** Pauses of a wait shortened for tests. */
export const FAST_TIMING = { pollIntervalMs: 10, retryBaseMs: 10, retryMaxMs: 40, drainMs: 300, streamIdleMs: 5_000 } as const;
