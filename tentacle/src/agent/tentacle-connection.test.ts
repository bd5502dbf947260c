import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { backoffDelayMs, CLOSE_CODES, CONNECT_TOKEN_AUDIENCE, PROTOCOL_LIMITS, PROTOCOL_VERSION, TentacleHelloSchema } from '@cuttle/shared';
import { ConnectionHarness } from '../test-support/connection-harness.js';
import { FakeHub, makeHubCertificate } from '../test-support/fake-hub.js';
import { TempDirs } from '../test-support/temp-dir.js';
import { waitFor } from '../test-support/wait.js';
import { CREDENTIALS_REFUSED } from '../net/network-failure.js';

const temp = new TempDirs();
const hubs: FakeHub[] = [];
const harnesses: ConnectionHarness[] = [];

afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.connection.stop()));
  await Promise.all(hubs.splice(0).map((hub) => hub.stop()));
});
afterAll(() => temp.cleanup());

async function setup(hubOptions: Parameters<typeof FakeHub.start>[0] = {}, overrides: ConstructorParameters<typeof ConnectionHarness>[2] = {}) {
  const hub = await FakeHub.start(hubOptions);
  hubs.push(hub);
  const harness = new ConnectionHarness(hub, await temp.make(), overrides);
  harnesses.push(harness);
  return { hub, harness };
}

describe('TentacleConnection', () => {
  it('connects with a verifiable ES256 JWT and sends a valid hello first', async () => {
    const { hub, harness } = await setup();
    harness.connection.start();
    const socket = await hub.waitForConnection();
    await harness.waitForState('online');

    expect(socket.header.alg).toBe('ES256');
    expect(socket.claims).toMatchObject({ iss: 'web-01', sub: 'web-01', aud: CONNECT_TOKEN_AUDIENCE });
    expect(typeof socket.claims.exp).toBe('number');
    expect((socket.claims.exp ?? 0) - (socket.claims.iat ?? 0)).toBe(300);
    expect(typeof socket.claims.jti).toBe('string');

    const hello = TentacleHelloSchema.parse(socket.messages[0]);
    expect(hello.protocolVersion).toBe(PROTOCOL_VERSION);
    expect(hello.tentacleVersion).toBe('9.9.9-test');
    expect(hello.os.hostname.length).toBeGreaterThan(0);
    expect(hello.freeDiskBytes === null || hello.freeDiskBytes > 0).toBe(true);
    expect(socket.invalid).toEqual([]);
    // the JWT never reaches the logs
    const token = JSON.stringify(harness.logs);
    expect(token).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/);
  });

  it('answers a health-check with a health-report', async () => {
    const { hub, harness } = await setup();
    harness.connection.start();
    const socket = await hub.waitForConnection();
    await harness.waitForState('online');
    socket.send({ type: 'health-check', id: 'hc-1' });
    const report = await socket.nextMessage('health-report');
    expect(report.id).toBe('hc-1');
    expect(report.uptimeSeconds).toBeGreaterThan(0);
    expect(report.freeDiskBytes === null || report.freeDiskBytes > 0).toBe(true);
  });

  it('replies an error to malformed JSON, an unknown type, a bad field and a binary frame, and stays connected', async () => {
    const { hub, harness } = await setup();
    harness.connection.start();
    const socket = await hub.waitForConnection();
    await harness.waitForState('online');
    socket.send('{not json');
    socket.send({ type: 'launch-missiles' });
    socket.send({ type: 'health-check', id: 7 });
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await waitFor(() => socket.messages.filter((m) => m.type === 'error').length === 4);
    const errors = socket.messages.filter((m) => m.type === 'error');
    expect(errors.every((e) => e.type === 'error' && e.code === 'invalid-message')).toBe(true);
    expect(errors[0]).toMatchObject({ message: 'the message is not valid JSON' });
    expect(errors[3]).toMatchObject({ message: expect.stringContaining('binary') });
    // still serving
    socket.send({ type: 'health-check', id: 'after' });
    expect((await socket.nextMessage('health-report')).id).toBe('after');
    expect(socket.closeInfo).toBeUndefined();
    expect(hub.connections).toHaveLength(1);
  });

  it('refuses a text message over the control limit, and drops a connection whose message exceeds maxPayload', async () => {
    const { hub, harness } = await setup();
    harness.connection.start();
    const socket = await hub.waitForConnection(0);
    await harness.waitForState('online');
    // within maxPayload (room for a package chunk) but over the control limit: refused, still connected
    socket.send({ type: 'error', code: 'x', message: 'y'.repeat(PROTOCOL_LIMITS.maxControlMessageBytes) });
    expect(await socket.nextMessage('error')).toMatchObject({ code: 'invalid-message', message: expect.stringContaining(`at most ${PROTOCOL_LIMITS.maxControlMessageBytes} bytes`) });
    expect(socket.closeInfo).toBeUndefined();
    socket.send({ type: 'error', code: 'x', message: 'y'.repeat(PROTOCOL_LIMITS.maxBinaryMessageBytes) });
    expect((await socket.closed()).code).toBe(1009);
    expect(harness.hasLog((l) => l.msg === 'the hub closed the connection' && String(l.error).includes('Max payload size exceeded'))).toBe(true);
    await hub.waitForConnection(1);
  });

  it('without a job handler refuses jobs politely, sends no inventory, and stays connected', async () => {
    const { hub, harness } = await setup();
    harness.connection.start();
    const socket = await hub.waitForConnection();
    await harness.waitForState('online');
    socket.send({
      type: 'job-start',
      jobId: 'j1',
      job: { kind: 'run-script', deploymentId: 1, taskId: 1, project: 'p', release: '1.0.0', environment: 'Test', machine: 'web-01', step: 's', script: 'true', timeoutSeconds: 5 },
    });
    expect(await socket.nextMessage('job-result')).toEqual({
      type: 'job-result',
      jobId: 'j1',
      outcome: 'failed',
      error: { code: 'invalid-job', message: 'this tentacle does not run deployments' },
      bytesReceived: 0,
      releaseDir: null,
    });
    socket.send({ type: 'job-cancel', jobId: 'j1', reason: 'x' });
    expect(await socket.nextMessage('error')).toMatchObject({ code: 'unknown-job', replyTo: 'j1' });
    expect(socket.messages.some((m) => m.type === 'inventory')).toBe(false);
    expect(socket.invalid).toEqual([]);
  });

  it('refuses job messages before the hub\'s hello', async () => {
    const { hub, harness } = await setup({ hello: 'none' });
    harness.connection.start();
    const socket = await hub.waitForConnection();
    await socket.nextMessage('hello');
    socket.send({ type: 'job-cancel', jobId: 'early', reason: 'x' });
    expect(await socket.nextMessage('error')).toMatchObject({ code: 'unexpected-message', replyTo: 'early' });
  });

  it('answers a second hello with an error and logs errors the hub reports', async () => {
    const { hub, harness } = await setup();
    harness.connection.start();
    const socket = await hub.waitForConnection();
    await harness.waitForState('online');
    socket.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, hubVersion: 'x', machine: { name: 'web-01', roles: [], environments: [] } });
    expect(await socket.nextMessage('error')).toMatchObject({ code: 'unexpected-message' });
    socket.send({ type: 'error', code: 'deploy-failed', message: 'nope', replyTo: 'r1' });
    await waitFor(() => harness.hasLog((l) => l.msg === 'the hub reported an error' && l.code === 'deploy-failed'));
  });

  it('closes with protocolMismatch when the hub speaks another protocol version', async () => {
    const { hub, harness } = await setup({ hello: { type: 'hello', protocolVersion: PROTOCOL_VERSION + 1, hubVersion: '9', machine: { name: 'web-01', roles: [], environments: [] } } });
    harness.connection.start();
    const socket = await hub.waitForConnection();
    const closed = await socket.closed();
    expect(closed.code).toBe(CLOSE_CODES.protocolMismatch);
    expect(closed.reason).toBe(`protocol mismatch: tentacle speaks ${PROTOCOL_VERSION}, hub speaks ${PROTOCOL_VERSION + 1}`);
    expect(harness.hasLog((l) => l.level === 'error' && String(l.msg).includes('protocol version mismatch'))).toBe(true);
    expect(harness.states.some((s) => s.state === 'online')).toBe(false);
  });

  it('treats a differently shaped hello of another version as a mismatch too', async () => {
    const { hub, harness } = await setup({ hello: { type: 'hello', protocolVersion: 2, features: ['x'] } });
    harness.connection.start();
    const closed = await (await hub.waitForConnection()).closed();
    expect(closed.code).toBe(CLOSE_CODES.protocolMismatch);
  });

  it('gives up on a hub that never says hello', async () => {
    const { hub, harness } = await setup({ hello: 'none' }, { helloTimeoutMs: 200 });
    harness.connection.start();
    const closed = await (await hub.waitForConnection()).closed();
    expect(closed.code).toBe(CLOSE_CODES.helloTimeout);
  });

  it('reconnects with growing backoff after the hub drops it, resetting after a completed hello', async () => {
    const { hub, harness } = await setup();
    harness.connection.start();
    const first = await hub.waitForConnection(0);
    await harness.waitForState('online');
    first.ws.terminate();
    const firstWait = await harness.waitForState('waiting');
    expect(firstWait.delayMs).toBe(backoffDelayMs(0, () => 0.05));
    await hub.waitForConnection(1);
    await waitFor(() => harness.states.filter((s) => s.state === 'online').length === 2);
    expect(harness.states.filter((s) => s.state === 'waiting')).toHaveLength(1);
    // the hub now refuses: attempts grow
    hub.publicKeys.clear();
    const before = harness.states.length;
    (await hub.waitForConnection(1)).ws.close(CLOSE_CODES.revoked, 'machine revoked');
    await waitFor(() => harness.states.slice(before).filter((s) => s.state === 'waiting').length >= 4, 10_000);
    const waits = harness.states.slice(before).filter((s) => s.state === 'waiting');
    expect(waits.map((w) => w.delayMs)).toEqual([0, 1, 2, 3].map((attempt) => backoffDelayMs(attempt, () => 0.05)));
    expect(waits[0]?.reason).toContain('revoked');
    expect(waits[1]).toMatchObject({ failure: 'unauthorized', reason: `${CREDENTIALS_REFUSED} (HTTP 401)` });
    expect(harness.hasLog((l) => l.msg === 'the hub closed the connection' && l.codeName === 'revoked')).toBe(true);
    expect(harness.hasLog((l) => l.msg === 'cannot connect to the hub' && String(l.reason).includes(CREDENTIALS_REFUSED))).toBe(true);
  });

  it('comes back by itself after the hub restarts on the same port', async () => {
    const { hub, harness } = await setup();
    harness.connection.start();
    await hub.waitForConnection(0);
    await harness.waitForState('online');
    await hub.stop();
    const down = harness.states.length;
    await waitFor(() => harness.states.slice(down).some((s) => s.failure === 'unreachable'), 5_000);
    expect(harness.hasLog((l) => String(l.reason).startsWith('hub unreachable at') && String(l.reason).includes('connection refused'))).toBe(true);
    await hub.listen(hub.port);
    await hub.waitForConnection(1, 10_000);
    await harness.waitForState('online', down, 5_000);
  });

  it('drops and replaces a connection whose hub stops answering pings', async () => {
    const { hub, harness } = await setup({ autoPong: false }, { heartbeatIntervalMs: 150 });
    harness.connection.start();
    const first = await hub.waitForConnection(0);
    await harness.waitForState('online');
    const closed = await first.closed(3_000);
    expect(closed.code).toBe(1006); // terminated, no close frame
    expect(harness.hasLog((l) => l.msg === 'the hub stopped answering pings; dropping the connection')).toBe(true);
    await hub.waitForConnection(1);
  });

  it('refuses a hub whose certificate is not the pinned one and says so', async () => {
    const pinned = await FakeHub.start();
    const { port } = pinned;
    await pinned.stop();
    const impostor = await FakeHub.start({ port });
    hubs.push(impostor);
    const harness = new ConnectionHarness(impostor, await temp.make(), {}, 'web-01', pinned);
    harnesses.push(harness);
    harness.connection.start();
    const waiting = await harness.waitForState('waiting');
    expect(waiting.failure).toBe('certificate');
    expect(waiting.reason).toContain('fingerprint mismatch');
    expect(waiting.reason).toContain(`expected ${pinned.fingerprint}, got ${impostor.fingerprint}`);
    expect(impostor.upgrades).toHaveLength(0);
    expect(impostor.connections).toHaveLength(0);
  });

  it('refuses a re-issued certificate with the same key (the fingerprint check, not the chain)', async () => {
    const original = await makeHubCertificate();
    const { createPublicKey } = await import('node:crypto');
    const keyPair = { privateKey: original.key, publicKey: createPublicKey(original.key).export({ type: 'spki', format: 'pem' }).toString() };
    const reissued = await makeHubCertificate(keyPair);
    const pinned = await FakeHub.start({ certificate: original });
    const { port } = pinned;
    await pinned.stop();
    const hub = await FakeHub.start({ certificate: reissued, port });
    hubs.push(hub);
    const harness = new ConnectionHarness(hub, await temp.make(), {}, 'web-01', pinned);
    harnesses.push(harness);
    harness.connection.start();
    const waiting = await harness.waitForState('waiting');
    expect(waiting.failure).toBe('certificate');
    expect(waiting.reason).toContain(`hub certificate fingerprint mismatch: expected ${pinned.fingerprint}, got ${hub.fingerprint}`);
    expect(hub.upgrades).toHaveLength(0);
  });

  it('stops promptly in every state and closes an open socket with 1000', async () => {
    const { hub, harness } = await setup();
    harness.connection.start();
    const socket = await hub.waitForConnection();
    await harness.waitForState('online');
    const started = Date.now();
    await harness.connection.stop();
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((await socket.closed()).code).toBe(1000);
    expect(harness.connection.currentState).toBe('stopped');

    // while waiting to reconnect
    await hub.stop();
    const waiting = new ConnectionHarness(hub, await temp.make());
    harnesses.push(waiting);
    waiting.connection.start();
    await waiting.waitForState('waiting');
    await waiting.connection.stop();
    expect(waiting.connection.currentState).toBe('stopped');
    // before it ever started
    const idle = new ConnectionHarness(hub, await temp.make());
    await idle.connection.stop();
    expect(idle.connection.currentState).toBe('stopped');
  });

  it('runs many connections in one process', async () => {
    const hub = await FakeHub.start();
    hubs.push(hub);
    const home = await temp.make();
    const many = Array.from({ length: 20 }, (_, i) => new ConnectionHarness(hub, home, {}, `swarm-${i}`));
    harnesses.push(...many);
    for (const h of many) h.connection.start();
    await waitFor(() => many.every((h) => h.connection.currentState === 'online'), 10_000);
    expect(new Set(hub.connections.map((c) => c.claims.iss)).size).toBe(20);
  });
});
