import { mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { api } from './http.js';
import { makeTempDir, runCli, runTentacle, startHubProcess, startTentacle, waitFor, type HubProcess, type RunResult, type TentacleProcess } from './processes.js';

export interface MachineSpec {
  name: string;
  role: string;
  env: string;
}

export interface TaskView {
  id: number;
  state: string;
  error: string | null;
  errorCode: string | null;
  targets: Array<{ machine: string; state: string; errorCode: string | null; error: string | null; bytesSent: number; phase: string | null }>;
}

/**
 * A real hub and real tentacles registered the way an operator does it (tokens through `cuttle`,
 * `cuttle-tentacle register`, then `run`), plus the helpers deployment tests share.
 */
export class DeployWorld {
  readonly tentacles = new Map<string, TentacleProcess>();
  hub!: HubProcess;
  private constructor(
    readonly temp: { dir: string; remove: () => Promise<void> },
    private readonly hubArgs: string[],
  ) {}

  static async start(machines: MachineSpec[], hubArgs: string[] = []): Promise<DeployWorld> {
    const world = new DeployWorld(await makeTempDir('cuttle-deploy-'), hubArgs);
    world.hub = await startHubProcess({ dataDir: world.dataDir, args: hubArgs });
    for (const env of [...new Set(machines.map((m) => m.env))]) expect((await world.cli(['env', 'create', env])).code).toBe(0);
    for (const m of machines) {
      const token = await world.cli(['machine', 'token', '--environment', m.env, '--role', m.role, '--json']);
      expect(token.code, token.stderr).toBe(0);
      const { token: value } = JSON.parse(token.stdout) as { token: string };
      const registered = await runTentacle([
        'register',
        ...['--hub', `wss://127.0.0.1:${world.hub.ready.tentaclePort}`, '--token', value, '--name', m.name],
        ...['--roles', m.role, '--environments', m.env, '--home', world.home(m.name), '--hub-fingerprint', world.hub.ready.fingerprint],
      ]);
      expect(registered.code, registered.stderr).toBe(0);
      world.tentacles.set(m.name, startTentacle(world.home(m.name)));
    }
    for (const m of machines) await world.waitOnline(m.name);
    return world;
  }

  get dataDir(): string {
    return path.join(this.temp.dir, 'data');
  }

  home(machine: string): string {
    return path.join(this.temp.dir, `home-${machine}`);
  }

  cli(args: string[], cwd?: string): Promise<RunResult> {
    return runCli(args, { hub: this.hub.url, apiKey: this.hub.adminKey, ...(cwd ? { cwd } : {}) });
  }

  get<T>(route: string): Promise<{ status: number; body: T }> {
    return api<T>(this.hub.url, route, { key: this.hub.adminKey });
  }

  post<T>(route: string, json: unknown): Promise<{ status: number; body: T }> {
    return api<T>(this.hub.url, route, { method: 'POST', key: this.hub.adminKey, json });
  }

  async machineStatus(name: string): Promise<string | undefined> {
    return (await this.get<{ status?: string }>(`/api/v1/machines/${name}`)).body.status;
  }

  waitOnline(name: string, timeoutMs = 30_000): Promise<true> {
    return waitFor(async () => ((await this.machineStatus(name)) === 'online' ? true : undefined), timeoutMs, `${name} to be online`);
  }

  waitOffline(name: string, timeoutMs = 30_000): Promise<true> {
    return waitFor(async () => ((await this.machineStatus(name)) === 'offline' ? true : undefined), timeoutMs, `${name} to be offline`);
  }

  async task(id: number): Promise<TaskView> {
    const r = await this.get<TaskView>(`/api/v1/tasks/${id}`);
    expect(r.status).toBe(200);
    return r.body;
  }

  waitTaskDone(id: number, timeoutMs = 60_000): Promise<TaskView> {
    return waitFor(async () => {
      const t = await this.task(id);
      return ['success', 'failed', 'cancelled'].includes(t.state) ? t : undefined;
    }, timeoutMs, `task ${id} to finish`);
  }

  async log(taskId: number): Promise<string> {
    const r = await api<string>(this.hub.url, `/api/v1/tasks/${taskId}/log`, { key: this.hub.adminKey });
    expect(r.status).toBe(200);
    return r.body;
  }

  /** Writes a package tree from `files` (path -> text or bytes; `.sh` files executable), packs and pushes it with the CLI. */
  async pushPackage(id: string, version: string, files: Record<string, string | Buffer>): Promise<void> {
    const dir = path.join(this.temp.dir, 'src', `${id}-${version}`);
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), text, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
    }
    const out = path.join(this.temp.dir, 'out');
    const packed = await this.cli(['pack', dir, '--id', id, '--version', version, '--out', out]);
    expect(packed.code, packed.stderr).toBe(0);
    const pushed = await this.cli(['push', path.join(out, `${id}.${version}.zip`)]);
    expect(pushed.code, pushed.stderr).toBe(0);
  }

  /** Applies a project from YAML text with `cuttle project apply -f`. */
  async applyProject(yamlText: string): Promise<void> {
    const file = path.join(this.temp.dir, `cuttle-${Date.now()}.yaml`);
    await writeFile(file, yamlText);
    const r = await this.cli(['project', 'apply', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
  }

  appDir(machine: string, project: string, env: string): string {
    return path.join(this.home(machine), 'apps', project, env);
  }

  /** The release folder name `current` points at on a machine's disk, or null without a link. */
  async currentOnDisk(machine: string, project: string, env: string): Promise<string | null> {
    try {
      return path.basename(await readlink(path.join(this.appDir(machine, project, env), 'current')));
    } catch {
      return null;
    }
  }

  readCurrentFile(machine: string, project: string, env: string, file: string): Promise<string> {
    return readFile(path.join(this.appDir(machine, project, env), 'current', file), 'utf8');
  }

  async restartTentacle(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.tentacles.get(name)?.stop(signal);
    this.tentacles.set(name, startTentacle(this.home(name)));
    await this.waitOnline(name);
  }

  async restartHub(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const ports = { port: this.hub.ready.port, tentaclePort: this.hub.ready.tentaclePort };
    await this.hub.stop(signal);
    this.hub = await startHubProcess({ dataDir: this.dataDir, ports, args: this.hubArgs });
  }

  async stop(): Promise<void> {
    for (const t of this.tentacles.values()) await t.stop();
    await this.hub?.stop();
    await this.temp.remove();
  }
}
