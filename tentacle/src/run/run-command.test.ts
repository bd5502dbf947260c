import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, TentacleHelloSchema } from '@cuttle/shared';
import { processStartTime } from '../deploy/process-identity.js';
import { CREDENTIALS_REFUSED } from '../net/network-failure.js';
import { FakeHub } from '../test-support/fake-hub.js';
import { deployJob, jobResult, servePackage, startJob } from '../test-support/fake-hub-jobs.js';
import { buildZip } from '../test-support/zip-builder.js';
import { TempDirs } from '../test-support/temp-dir.js';
import { assertBuilt, runTentacle, TentacleProcess } from '../test-support/tentacle-process.js';
import { waitFor } from '../test-support/wait.js';

const temp = new TempDirs();
const hubs: FakeHub[] = [];
const processes: TentacleProcess[] = [];

beforeAll(() => assertBuilt());
/** Script groups a failed test could leave running, with their leader's start time (never a reused PID). */
const groupsToKill: Array<{ pgid: number; startTime: string | null }> = [];
afterEach(async () => {
  for (const { pgid, startTime } of groupsToKill.splice(0)) {
    try {
      if (startTime !== null && processStartTime(pgid) === startTime) process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await Promise.all(processes.splice(0).map((p) => p.stop()));
  await Promise.all(hubs.splice(0).map((hub) => hub.stop()));
});
afterAll(() => temp.cleanup());

async function registeredHome(hub: FakeHub, name = 'app-01'): Promise<string> {
  const home = path.join(await temp.make(), 'home');
  const result = await runTentacle(['register', '--hub', hub.url, '--token', 'secret-registration-token', '--name', name, '--roles', 'web', '--environments', 'Test', '--home', home, '--hub-fingerprint', hub.fingerprint]);
  expect(result.exitInfo.code, result.stderr).toBe(0);
  return home;
}

function startRun(home: string, env: NodeJS.ProcessEnv = {}): TentacleProcess {
  const proc = new TentacleProcess(['run', '--home', home], env);
  processes.push(proc);
  return proc;
}

describe('cuttle-tentacle run', () => {
  it('connects, says hello, answers a health check, and exits 0 promptly on SIGTERM', async () => {
    const hub = await FakeHub.start();
    hubs.push(hub);
    const home = await registeredHome(hub);
    const proc = startRun(home);
    const socket = await hub.waitForConnection(0, 10_000);
    expect(socket.header.alg).toBe('ES256');
    expect(socket.claims).toMatchObject({ iss: 'app-01', sub: 'app-01', aud: 'cuttle-hub' });
    const hello = TentacleHelloSchema.parse(socket.messages[0] ?? (await socket.nextMessage('hello')));
    expect(hello).toMatchObject({ protocolVersion: PROTOCOL_VERSION, tentacleVersion: '0.1.0' });
    await proc.waitForLog('connected to the hub');

    socket.send({ type: 'health-check', id: 'hc-42' });
    expect((await socket.nextMessage('health-report')).id).toBe('hc-42');

    const started = Date.now();
    process.kill(proc.pid, 'SIGTERM');
    const exit = await proc.exit();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(2_500);
    expect((await socket.closed()).code).toBe(1000);

    const lines = proc.logLines();
    expect(proc.stderr.trim().split('\n')).toHaveLength(lines.length); // every stderr line is JSON
    for (const line of lines) {
      expect(typeof line.time).toBe('string');
      expect(['debug', 'info', 'warn', 'error']).toContain(line.level);
      expect(typeof line.msg).toBe('string');
    }
    expect(proc.stderr).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/); // no JWT
    expect(proc.stderr).not.toContain('PRIVATE KEY');
    expect(proc.stderr).not.toContain('secret-registration-token');
  });

  it('says so when the hub refuses its credentials, keeps retrying, and still stops on SIGINT', async () => {
    const hub = await FakeHub.start();
    hubs.push(hub);
    const home = await registeredHome(hub);
    hub.publicKeys.clear(); // as if revoked
    const proc = startRun(home);
    await waitFor(() => proc.logLines().some((l) => l.msg === 'cannot connect to the hub' && String(l.reason).includes(CREDENTIALS_REFUSED)), 10_000);
    expect(hub.upgrades[0]).toMatchObject({ accepted: false });
    process.kill(proc.pid, 'SIGINT');
    expect(await proc.exit()).toEqual({ code: 0, signal: null });
  });

  it('recovers an interrupted deployment before connecting, sends the inventory, and deploys', async () => {
    const hub = await FakeHub.start();
    hubs.push(hub);
    const home = await registeredHome(hub);
    const app = path.join(home, 'apps', 'shop', 'Test');
    await mkdir(path.join(app, 'releases', '0.9.0', 'half'), { recursive: true });
    startRun(home);
    const socket = await hub.waitForConnection(0, 10_000);
    const inventory = await socket.nextMessage('inventory', 0, 10_000);
    expect(inventory).toEqual({
      type: 'inventory',
      apps: [{ app: { project: 'shop', environment: 'Test', slot: null }, release: null, packageId: null, packageVersion: null, deployedAt: null }],
      activeJobs: [],
    });
    expect(existsSync(path.join(app, 'releases', '0.9.0'))).toBe(false);

    const zip = buildZip([{ name: 'Deploy.sh', data: 'echo "deploying $CUTTLE_RELEASE on $CUTTLE_MACHINE"\n' }]);
    startJob(socket, 'j1', deployJob(zip, { machine: 'app-01' }));
    await servePackage(socket, 'j1', zip);
    expect(await jobResult(socket, 'j1')).toMatchObject({ outcome: 'success', releaseDir: path.join(app, 'releases', '1.0.0') });
    expect(await readlink(path.join(app, 'current'))).toBe('releases/1.0.0');
    const lines = socket.messages.flatMap((m) => (m.type === 'job-log' ? m.lines : []));
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stdout', text: 'deploying 1.0.0 on app-01' }));
    expect(socket.invalid).toEqual([]);
  });

  it('kills a running deploy script when it is stopped', async () => {
    const hub = await FakeHub.start();
    hubs.push(hub);
    const home = await registeredHome(hub);
    const out = await temp.make();
    const proc = startRun(home, { TEST_OUT: out });
    const socket = await hub.waitForConnection(0, 10_000);
    await socket.nextMessage('inventory', 0, 10_000);
    const zip = buildZip([{ name: 'Deploy.sh', data: 'echo $$ > "$TEST_OUT/pid"\nsleep 300\n' }]);
    startJob(socket, 'j1', deployJob(zip, { machine: 'app-01' }));
    await servePackage(socket, 'j1', zip);
    await waitFor(() => existsSync(path.join(out, 'pid')) && readFileSync(path.join(out, 'pid'), 'utf8').endsWith('\n'), 10_000, 'Deploy.sh to start');
    const pid = Number(readFileSync(path.join(out, 'pid'), 'utf8'));
    process.kill(proc.pid, 'SIGTERM');
    expect(await proc.exit()).toEqual({ code: 0, signal: null });
    await waitFor(() => !alive(pid), 5_000, 'the script to die');
  });

  it('kills the scripts a tentacle killed with SIGKILL left running, at its next start, before connecting', async () => {
    const hub = await FakeHub.start();
    hubs.push(hub);
    const home = await registeredHome(hub);
    const out = await temp.make();
    const first = startRun(home, { TEST_OUT: out });
    const socket = await hub.waitForConnection(0, 10_000);
    await socket.nextMessage('inventory', 0, 10_000);
    // a script that keeps writing into the app folder, with a child in the background
    const script = 'sleep 300 &\necho $! > "$TEST_OUT/child"\necho $$ > "$TEST_OUT/pid"\nwhile :; do date >> ../../still-writing; sleep 0.05; done\n';
    const zip = buildZip([{ name: 'Deploy.sh', data: script }]);
    startJob(socket, 'j1', deployJob(zip, { machine: 'app-01' }));
    await servePackage(socket, 'j1', zip);
    await waitFor(() => existsSync(path.join(out, 'pid')) && readFileSync(path.join(out, 'pid'), 'utf8').endsWith('\n'), 10_000, 'Deploy.sh to start');
    const pid = Number(readFileSync(path.join(out, 'pid'), 'utf8'));
    const child = Number(readFileSync(path.join(out, 'child'), 'utf8'));
    const records = path.join(home, 'work', 'running');
    groupsToKill.push({ pgid: pid, startTime: processStartTime(pid) }); // should the test fail before recovery ends them
    expect(readdirSync(records)).toEqual([`${pid}.json`]);

    process.kill(first.pid, 'SIGKILL');
    await first.exit();
    // nothing stopped the script: it outlives the tentacle
    expect(alive(pid)).toBe(true);
    expect(alive(child)).toBe(true);

    const second = startRun(home, { TEST_OUT: out });
    const next = await hub.waitForConnection(1, 10_000);
    await next.nextMessage('inventory', 0, 10_000);
    // recovery ran before the connection: the whole group is gone by now
    expect(alive(pid)).toBe(false);
    expect(alive(child)).toBe(false);
    expect(existsSync(records)).toBe(false);
    expect(existsSync(path.join(home, 'apps', 'shop', 'Test', 'releases', '1.0.0'))).toBe(false);
    expect(second.logLines()).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'killed a deploy script left running by an earlier run of the tentacle', pid, script: 'Deploy.sh', jobId: 'j1' }));
  });

  it('exits 2 with a clear message when the home holds no registration', async () => {
    const home = await temp.make();
    const result = await runTentacle(['run', '--home', home]);
    expect(result.exitInfo.code).toBe(2);
    expect(result.stderr).toContain('this tentacle is not registered');
    expect(result.stderr).toContain('(not-registered)');
  });

  it('exits 2 without --home', async () => {
    const result = await runTentacle(['run']);
    expect(result.exitInfo.code).toBe(2);
    expect(result.stderr).toContain('--home');
  });
});

/** Alive and not a zombie (a killed orphan may wait for a reaper that never comes in a container). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
