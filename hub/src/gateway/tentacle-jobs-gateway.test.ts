import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { PROTOCOL_LIMITS, type InstalledApp } from '@cuttle/shared';
import { deployJob, recorder, scriptJob, startFixture, waitFor, type GatewayFixture } from './testing/gateway-harness.js';

/** Jobs through the real gateway and a test-driven tentacle: results, lost connections, cancel, inventory. */
describe('tentacle gateway jobs', () => {
  let fx: GatewayFixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('runs a job to its result, passing phases and log lines to the handlers', async () => {
    const name = fx.uniqueName('web');
    const tentacle = await fx.hub.machine(name)();
    expect(fx.hub.gateway.jobs.isOnline(name)).toBe(true);
    const r = recorder();
    const outcome = fx.hub.gateway.jobs.run(name, scriptJob(name), r.handlers, new AbortController().signal);
    const start = await tentacle.next('job-start');
    const jobId = start.jobId as string;
    expect(jobId).toMatch(/^t7\.[A-Za-z0-9]+\.1$/);
    expect(start.job).toEqual(scriptJob(name));
    tentacle.send({ type: 'job-status', jobId, phase: 'script' });
    tentacle.send({ type: 'job-log', jobId, lines: [{ at: '2026-01-01T00:00:00.000Z', stream: 'stdout', text: 'hi' }, { at: '2026-01-01T00:00:00.001Z', stream: 'stderr', text: 'warn' }] });
    tentacle.send({ type: 'job-result', jobId, outcome: 'success', error: null, bytesReceived: 0, releaseDir: null });
    expect(await outcome).toEqual({ outcome: 'success', error: null, bytesSent: 0, releaseDir: null });
    expect(r.phases).toEqual(['script']);
    expect(r.logs.map((l) => `${l.stream}:${l.text}`)).toEqual(['stdout:hi', 'stderr:warn']);
    await tentacle.cut();
  });

  it('fails at once with machine-offline for a machine that is not connected', async () => {
    const name = fx.uniqueName('off');
    fx.hub.machine(name);
    expect(fx.hub.gateway.jobs.isOnline(name)).toBe(false);
    const outcome = await fx.hub.gateway.jobs.run(name, scriptJob(name), recorder().handlers, new AbortController().signal);
    expect(outcome.outcome).toBe('failed');
    expect(outcome.error?.code).toBe('machine-offline');
  });

  it('moves a job to a newer connection of the machine that replaces the old one', async () => {
    const name = fx.uniqueName('replace');
    const connect = fx.hub.machine(name);
    const first = await connect();
    const outcome = fx.hub.gateway.jobs.run(name, scriptJob(name), recorder().handlers, new AbortController().signal);
    await first.next('job-start');
    const second = await connect();
    const jobId = (await second.next('job-start')).jobId as string;
    expect(jobId.endsWith('.2')).toBe(true);
    second.send({ type: 'job-result', jobId, outcome: 'success', error: null, bytesReceived: 0, releaseDir: null });
    expect((await outcome).outcome).toBe('success');
    await first.closed;
    await second.cut();
  });

  it('gives up after five attempts that each lose the connection during the transfer', async () => {
    const name = fx.uniqueName('flaky');
    const connect = fx.hub.machine(name);
    let tentacle = await connect();
    const outcome = fx.hub.gateway.jobs.run(name, scriptJob(name), recorder().handlers, new AbortController().signal);
    const ids: string[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      if (attempt > 1) tentacle = await connect();
      ids.push((await tentacle.next('job-start')).jobId as string);
      await tentacle.cut();
    }
    expect(ids.map((id) => id.split('.').at(-1))).toEqual(['1', '2', '3', '4', '5']);
    expect((await outcome).error).toEqual({ code: 'connection-lost', message: `the connection to ${name} was lost 5 times during the transfer; giving up` });
  });

  it('fails with connection-lost when the tentacle does not come back within the grace', async () => {
    const name = fx.uniqueName('gone');
    const tentacle = await fx.quick.machine(name)();
    const r = recorder();
    const outcome = fx.quick.gateway.jobs.run(name, scriptJob(name), r.handlers, new AbortController().signal);
    await tentacle.next('job-start');
    await tentacle.cut();
    const result = await outcome;
    expect(result.error).toEqual({ code: 'connection-lost', message: `the connection to ${name} was lost before the job started and did not come back within 0.2 s` });
    expect(r.hubLogs[0]?.text).toBe(`connection to ${name} lost before the job started; waiting up to 0.2 s for it to come back`);
  });

  it('fails with connection-lost, without a restart, when the connection drops after the transfer', async () => {
    const name = fx.uniqueName('deploying');
    const connect = fx.hub.machine(name);
    const tentacle = await connect();
    const stored = await fx.blob(1000);
    const r = recorder();
    const outcome = fx.hub.gateway.jobs.run(name, deployJob(name, stored), r.handlers, new AbortController().signal);
    const jobId = (await tentacle.next('job-start')).jobId as string;
    tentacle.send({ type: 'job-status', jobId, phase: 'extract' });
    tentacle.send({ type: 'job-status', jobId, phase: 'Deploy' });
    await waitFor(() => r.phases.includes('Deploy'), 'the Deploy phase');
    await tentacle.cut();
    const result = await outcome;
    expect(result.error).toEqual({ code: 'connection-lost', message: `the connection to ${name} was lost while Deploy.sh ran; the previous release stays current` });
    const back = await connect();
    await expect(back.next('job-start', 300)).rejects.toThrow(/timed out/);
    await back.cut();
  });

  it('cancels: sends job-cancel and resolves with the tentacle\'s confirmation', async () => {
    const name = fx.uniqueName('cancel');
    const tentacle = await fx.hub.machine(name)();
    const abort = new AbortController();
    const outcome = fx.hub.gateway.jobs.run(name, scriptJob(name), recorder().handlers, abort.signal);
    const jobId = (await tentacle.next('job-start')).jobId as string;
    tentacle.send({ type: 'job-status', jobId, phase: 'script' });
    abort.abort();
    expect(await tentacle.next('job-cancel')).toMatchObject({ jobId });
    tentacle.send({ type: 'job-result', jobId, outcome: 'cancelled', error: { code: 'cancelled', message: 'killed the script' }, bytesReceived: 0, releaseDir: null });
    expect(await outcome).toMatchObject({ outcome: 'cancelled', error: { code: 'cancelled', message: 'killed the script' } });
    await tentacle.cut();
  });

  it('resolves a cancel as cancelled when the tentacle never confirms', async () => {
    const name = fx.uniqueName('mute');
    const tentacle = await fx.quick.machine(name)();
    const abort = new AbortController();
    const outcome = fx.quick.gateway.jobs.run(name, scriptJob(name), recorder().handlers, abort.signal);
    await tentacle.next('job-start');
    abort.abort();
    await tentacle.next('job-cancel');
    expect((await outcome).error?.code).toBe('cancelled');
    await tentacle.cut();
  });

  it('answers messages about unknown jobs with an error and keeps the connection', async () => {
    const name = fx.uniqueName('stray');
    const tentacle = await fx.hub.machine(name)();
    tentacle.send({ type: 'job-log', jobId: 'nope.1', lines: [{ at: 'x', stream: 'stdout', text: 'hello' }] });
    expect(await tentacle.next('error')).toMatchObject({ code: 'unknown-job', replyTo: 'nope.1' });
    tentacle.send({ type: 'job-result', jobId: 'nope.2', outcome: 'success', error: null, bytesReceived: 0, releaseDir: null });
    expect(await tentacle.next('error')).toMatchObject({ code: 'unknown-job', replyTo: 'nope.2' });
    tentacle.send({ type: 'error', code: 'x', message: 'y'.repeat(PROTOCOL_LIMITS.maxControlMessageBytes) });
    expect(await tentacle.next('error')).toMatchObject({ code: 'invalid-message' });
    expect(fx.hub.gateway.jobs.isOnline(name)).toBe(true);
    await tentacle.cut();
  });

  it('passes inventories to the listeners and cancels active jobs the hub does not know', async () => {
    const name = fx.uniqueName('inv');
    const tentacle = await fx.hub.machine(name)();
    const seen: Array<{ machine: string; apps: InstalledApp[] }> = [];
    fx.hub.gateway.jobs.onInventory(() => {
      throw new Error('a broken listener');
    });
    fx.hub.gateway.jobs.onInventory((machine, apps) => seen.push({ machine, apps }));
    const outcome = fx.hub.gateway.jobs.run(name, scriptJob(name), recorder().handlers, new AbortController().signal);
    const jobId = (await tentacle.next('job-start')).jobId as string;
    const apps: InstalledApp[] = [{ app: { project: 'Shop', environment: 'Test', slot: null }, release: '0.9.0', packageId: 'Acme.Web', packageVersion: '0.9.0', deployedAt: null }];
    tentacle.send({ type: 'inventory', apps, activeJobs: ['t1.old.1', jobId] });
    expect(await tentacle.next('job-cancel')).toMatchObject({ jobId: 't1.old.1', reason: 'the hub no longer runs this job' });
    await waitFor(() => seen.find((s) => s.machine === name), 'the inventory');
    expect(seen.find((s) => s.machine === name)?.apps).toEqual(apps);
    tentacle.send({ type: 'job-result', jobId, outcome: 'success', error: null, bytesReceived: 0, releaseDir: null });
    expect((await outcome).outcome).toBe('success');
    expect(tentacle.messages.filter((m) => m.type === 'job-cancel').map((m) => m.jobId)).toEqual(['t1.old.1']);
    await tentacle.cut();
  });

  it('resolves running jobs interrupted when the hub shuts down', async () => {
    const name = fx.uniqueName('shutdown');
    const local = await fx.another();
    const tentacle = await local.machine(name)();
    const outcome = local.gateway.jobs.run(name, scriptJob(name), recorder().handlers, new AbortController().signal);
    await tentacle.next('job-start');
    await local.close();
    expect((await outcome).error?.code).toBe('interrupted');
    await tentacle.closed;
  });
});
