import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { PROTOCOL_LIMITS } from '@cuttle/shared';
import { WebSocketSession } from './tentacle-session.js';
import { deployJob, recorder, startFixture, waitFor, type GatewayFixture } from './testing/gateway-harness.js';

/** Package transfer through the real gateway: chunks, backpressure, resume, a missing package file. */
describe('package transfer', () => {
  let fx: GatewayFixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('streams a package in chunks at the requested offsets, bounded by the send high-water mark while the tentacle does not read', async () => {
    const name = fx.uniqueName('big');
    const tentacle = await fx.hub.machine(name)();
    const stored = await fx.blob(24 * 1024 * 1024 + 12_345);
    const r = recorder();
    const outcome = fx.hub.gateway.jobs.run(name, deployJob(name, stored), r.handlers, new AbortController().signal);
    const jobId = (await tentacle.next('job-start')).jobId as string;
    tentacle.send({ type: 'job-status', jobId, phase: 'transfer' });
    tentacle.ws.pause();
    tentacle.send({ type: 'package-request', jobId, offset: 0 });
    const session = fx.hub.connections.get(name);
    if (!(session instanceof WebSocketSession)) throw new Error('no session');
    // the hub fills the socket up to the mark and then holds the rest back
    await waitFor(() => session.bufferedAmount > PROTOCOL_LIMITS.sendHighWaterBytes, 'the socket to fill');
    expect(r.bytes.at(-1) ?? 0).toBeLessThan(stored.size);
    tentacle.ws.resume();
    await waitFor(() => tentacle.receivedBytes(jobId) === stored.size, 'every byte');
    const limit = PROTOCOL_LIMITS.sendHighWaterBytes + PROTOCOL_LIMITS.maxBinaryMessageBytes + 1024;
    expect(session.peakBufferedBytes).toBeGreaterThan(PROTOCOL_LIMITS.sendHighWaterBytes);
    expect(session.peakBufferedBytes).toBeLessThanOrEqual(limit);
    let expected = 0;
    for (const chunk of tentacle.chunks) {
      expect(chunk.offset).toBe(expected);
      expect(chunk.data.length).toBeLessThanOrEqual(PROTOCOL_LIMITS.packageChunkBytes);
      expected += chunk.data.length;
    }
    expect(Buffer.concat(tentacle.chunks.map((c) => c.data)).equals(stored.bytes)).toBe(true);
    tentacle.send({ type: 'job-status', jobId, phase: 'extract' });
    tentacle.send({ type: 'job-result', jobId, outcome: 'success', error: null, bytesReceived: stored.size, releaseDir: '/apps/Shop/Test/releases/1.0.0' });
    const result = await outcome;
    expect(result).toMatchObject({ outcome: 'success', bytesSent: stored.size, releaseDir: '/apps/Shop/Test/releases/1.0.0' });
    expect(r.bytes.at(-1)).toBe(stored.size);
    expect(r.bytes.length).toBeGreaterThan(10); // reported as it went, not only at the end
    expect(r.hubLogs.map((l) => l.text)).toContain(`sending Acme.Web 1.4.0 (24.0 MiB) to ${name}`);
    await tentacle.cut();
  });

  it('sends two packages to two tentacles at once, each byte-exact', async () => {
    const names = [fx.uniqueName('pair'), fx.uniqueName('pair')];
    const tentacles = await Promise.all(names.map((n) => fx.hub.machine(n)()));
    const stored = await Promise.all([fx.blob(5 * 1024 * 1024), fx.blob(3 * 1024 * 1024 + 7)]);
    const outcomes = names.map((n, i) => fx.hub.gateway.jobs.run(n, deployJob(n, stored[i]!), recorder().handlers, new AbortController().signal));
    const jobIds = await Promise.all(tentacles.map(async (t) => (await t.next('job-start')).jobId as string));
    tentacles.forEach((t, i) => t.send({ type: 'package-request', jobId: jobIds[i], offset: 0 }));
    await Promise.all(tentacles.map((t, i) => waitFor(() => t.receivedBytes(jobIds[i]!) === stored[i]!.size, 'every byte')));
    tentacles.forEach((t, i) => {
      expect(Buffer.concat(t.chunks.map((c) => c.data)).equals(stored[i]!.bytes)).toBe(true);
      t.send({ type: 'job-result', jobId: jobIds[i], outcome: 'success', error: null, bytesReceived: stored[i]!.size, releaseDir: '/r' });
    });
    expect((await Promise.all(outcomes)).map((o) => o.bytesSent)).toEqual(stored.map((s) => s.size));
    await Promise.all(tentacles.map((t) => t.cut()));
  });

  it('starts the job again when the connection drops mid-transfer, resuming from the offset the tentacle asks for', async () => {
    const name = fx.uniqueName('resume');
    const connect = fx.hub.machine(name);
    const first = await connect();
    const stored = await fx.blob(6 * 1024 * 1024);
    const r = recorder();
    const outcome = fx.hub.gateway.jobs.run(name, deployJob(name, stored), r.handlers, new AbortController().signal);
    const firstId = (await first.next('job-start')).jobId as string;
    first.send({ type: 'job-status', jobId: firstId, phase: 'transfer' });
    first.send({ type: 'package-request', jobId: firstId, offset: 0 });
    await waitFor(() => first.receivedBytes(firstId) >= 1024 * 1024, 'the first MiB');
    const keep = first.chunks.filter((c) => c.jobId === firstId).slice(0, 4);
    await first.cut();
    await waitFor(() => r.hubLogs.find((l) => l.text.includes('waiting up to 10 s for it to come back')), 'the lost-connection line');
    expect(r.hubLogs.some((l) => new RegExp(`connection to ${name} lost during the transfer at \\d+\\.\\d MiB`).test(l.text))).toBe(true);

    const second = await connect();
    const secondStart = await second.next('job-start');
    const secondId = secondStart.jobId as string;
    expect(secondId).not.toBe(firstId);
    expect(secondId.endsWith('.2')).toBe(true);
    const resumeAt = keep.reduce((sum, c) => sum + c.data.length, 0);
    second.send({ type: 'job-status', jobId: secondId, phase: 'transfer' });
    second.send({ type: 'package-request', jobId: secondId, offset: resumeAt });
    await waitFor(() => second.receivedBytes(secondId) === stored.size - resumeAt, 'the rest');
    expect(second.chunks[0]!.offset).toBe(resumeAt);
    expect(Buffer.concat([...keep, ...second.chunks].map((c) => c.data)).equals(stored.bytes)).toBe(true);
    second.send({ type: 'job-result', jobId: secondId, outcome: 'success', error: null, bytesReceived: stored.size - resumeAt, releaseDir: '/r' });
    const result = await outcome;
    expect(result.outcome).toBe('success');
    // both attempts count: the second alone is less than the package
    expect(result.bytesSent).toBeGreaterThanOrEqual(stored.size);
    expect(r.hubLogs.map((l) => l.text)).toContain(`resuming the transfer of Acme.Web 1.4.0 to ${name} at ${(resumeAt / 1024 / 1024).toFixed(1)} MiB of 6.0 MiB`);
    // a late message of the first attempt is dropped quietly, a package-request refused
    second.send({ type: 'package-request', jobId: firstId, offset: 0 });
    expect((await second.next('package-abort')).jobId).toBe(firstId);
    await second.cut();
  });

  it('sends package-abort and fails transfer-failed when the package file is missing', async () => {
    const name = fx.uniqueName('noblob');
    const tentacle = await fx.hub.machine(name)();
    const outcome = fx.hub.gateway.jobs.run(name, deployJob(name, { sha256: 'f'.repeat(64), size: 4096 }), recorder().handlers, new AbortController().signal);
    const jobId = (await tentacle.next('job-start')).jobId as string;
    tentacle.send({ type: 'package-request', jobId, offset: 0 });
    const abort = await tentacle.next('package-abort');
    expect(abort).toMatchObject({ jobId });
    expect(abort.reason).toContain('missing');
    tentacle.send({ type: 'job-result', jobId, outcome: 'failed', error: { code: 'transfer-failed', message: 'aborted by the hub' }, bytesReceived: 0, releaseDir: null });
    const result = await outcome;
    expect(result.error?.code).toBe('transfer-failed');
    expect(result.error?.message).toBe(abort.reason);
    expect(tentacle.chunks).toEqual([]);
    await tentacle.cut();
  });

  it('streams at most --max-concurrent-transfers packages at once; the next starts when one ends, and says it waited', async () => {
    const local = await fx.another({ maxTransfers: 1 });
    try {
      const names = [fx.uniqueName('slot'), fx.uniqueName('slot')];
      const [first, second] = await Promise.all(names.map((n) => local.machine(n)()));
      // larger than what the socket buffers hold, so that the first cannot finish while paused
      const big = await fx.blob(24 * 1024 * 1024);
      const stored = await fx.blob(1024 * 1024);
      const records = names.map(() => recorder());
      const outcomes = names.map((n, i) => local.gateway.jobs.run(n, deployJob(n, i === 0 ? big : stored), records[i]!.handlers, new AbortController().signal));
      const firstId = (await first!.next('job-start')).jobId as string;
      const secondId = (await second!.next('job-start')).jobId as string;
      first!.ws.pause(); // the first transfer cannot finish while its tentacle does not read
      first!.send({ type: 'package-request', jobId: firstId, offset: 0 });
      await waitFor(() => records[0]!.hubLogs.some((l) => l.text.startsWith('sending')), 'the first transfer to start');
      second!.send({ type: 'package-request', jobId: secondId, offset: 0 });
      await waitFor(() => records[1]!.hubLogs.find((l) => l.text.includes('waiting to send')), 'the second to wait');
      expect(records[1]!.hubLogs.map((l) => l.text)).toContain(`waiting to send Acme.Web 1.4.0 to ${names[1]}: 1 transfers are running (at most 1 at once)`);
      await new Promise((r) => setTimeout(r, 200));
      expect(second!.receivedBytes(secondId)).toBe(0);
      first!.ws.resume();
      await waitFor(() => first!.receivedBytes(firstId) === big.size, 'the first package');
      await waitFor(() => second!.receivedBytes(secondId) === stored.size, 'the second package, after the first');
      expect(Buffer.concat(second!.chunks.map((c) => c.data)).equals(stored.bytes)).toBe(true);
      first!.send({ type: 'job-result', jobId: firstId, outcome: 'success', error: null, bytesReceived: big.size, releaseDir: '/r' });
      second!.send({ type: 'job-result', jobId: secondId, outcome: 'success', error: null, bytesReceived: stored.size, releaseDir: '/r' });
      expect((await Promise.all(outcomes)).map((o) => o.outcome)).toEqual(['success', 'success']);
      await Promise.all([first!.cut(), second!.cut()]);
    } finally {
      await local.close();
    }
  });

  it('gives the slot of a transfer cut short (here: its job cancelled) to the next in line', async () => {
    const local = await fx.another({ maxTransfers: 1 });
    try {
      const names = [fx.uniqueName('cut'), fx.uniqueName('cut')];
      const [first, second] = await Promise.all(names.map((n) => local.machine(n)()));
      const big = await fx.blob(24 * 1024 * 1024);
      const stored = await fx.blob(1024 * 1024);
      const cancel = new AbortController();
      const outcomes = [
        local.gateway.jobs.run(names[0]!, deployJob(names[0]!, big), recorder().handlers, cancel.signal),
        local.gateway.jobs.run(names[1]!, deployJob(names[1]!, stored), recorder().handlers, new AbortController().signal),
      ];
      const firstId = (await first!.next('job-start')).jobId as string;
      const secondId = (await second!.next('job-start')).jobId as string;
      first!.ws.pause();
      first!.send({ type: 'package-request', jobId: firstId, offset: 0 });
      await new Promise((r) => setTimeout(r, 50));
      second!.send({ type: 'package-request', jobId: secondId, offset: 0 });
      await new Promise((r) => setTimeout(r, 100));
      expect(second!.receivedBytes(secondId)).toBe(0);
      cancel.abort();
      await waitFor(() => second!.receivedBytes(secondId) === stored.size, 'the second package once the first was cancelled');
      second!.send({ type: 'job-result', jobId: secondId, outcome: 'success', error: null, bytesReceived: stored.size, releaseDir: '/r' });
      expect((await outcomes[1])!.outcome).toBe('success');
      await first!.cut();
      expect((await outcomes[0])!.outcome).toBe('cancelled');
      await second!.cut();
    } finally {
      await local.close();
    }
  });

  it('frees the slot of a transfer with nothing to send, and drops the place in line of a tentacle that goes away', async () => {
    const local = await fx.another({ maxTransfers: 1 });
    try {
      const names = [fx.uniqueName('empty'), fx.uniqueName('gone'), fx.uniqueName('next')];
      const [empty, gone, next] = await Promise.all(names.map((n) => local.machine(n)()));
      const nothing = await fx.blob(0);
      const big = await fx.blob(24 * 1024 * 1024);
      const stored = await fx.blob(1024 * 1024);
      const outcomes = [
        local.gateway.jobs.run(names[0]!, deployJob(names[0]!, nothing), recorder().handlers, new AbortController().signal),
        local.gateway.jobs.run(names[1]!, deployJob(names[1]!, big), recorder().handlers, new AbortController().signal),
        local.gateway.jobs.run(names[2]!, deployJob(names[2]!, stored), recorder().handlers, new AbortController().signal),
      ];
      const ids = await Promise.all([empty!, gone!, next!].map(async (t) => (await t.next('job-start')).jobId as string));
      empty!.send({ type: 'package-request', jobId: ids[0], offset: 0 }); // 0 bytes: done at once
      gone!.ws.pause();
      gone!.send({ type: 'package-request', jobId: ids[1], offset: 0 }); // takes the slot, cannot finish while paused
      await new Promise((r) => setTimeout(r, 100));
      next!.send({ type: 'package-request', jobId: ids[2], offset: 0 }); // waits in line
      await new Promise((r) => setTimeout(r, 100));
      expect(next!.receivedBytes(ids[2]!)).toBe(0);
      await gone!.cut(); // its slot goes to the next in line
      await waitFor(() => next!.receivedBytes(ids[2]!) === stored.size, 'the waiting transfer after the connection was lost');
      next!.send({ type: 'job-result', jobId: ids[2], outcome: 'success', error: null, bytesReceived: stored.size, releaseDir: '/r' });
      empty!.send({ type: 'job-result', jobId: ids[0], outcome: 'success', error: null, bytesReceived: 0, releaseDir: '/r' });
      expect((await outcomes[2])!.outcome).toBe('success');
      expect((await outcomes[0])!.outcome).toBe('success');
      await Promise.all([empty!.cut(), next!.cut()]);
    } finally {
      await local.close();
    }
  });
});
