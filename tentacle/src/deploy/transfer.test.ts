import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeChunkHeader } from '@cuttle/shared';
import { deployHarnesses, type DeployHarness } from '../test-support/deploy-harness.js';
import { deployJob, jobMessage, jobMessages, jobResult, jobText, sendChunk, servePackage, startJob } from '../test-support/fake-hub-jobs.js';
import { waitFor } from '../test-support/wait.js';
import { buildZip, sha256Of } from '../test-support/zip-builder.js';
import type { DeployerOptions } from './deployer.js';

const { temp, start } = deployHarnesses();

async function setup(options: Partial<DeployerOptions> = {}): Promise<DeployHarness> {
  const h = await start(options);
  return h;
}

/** About `mib` MiB of incompressible bytes in a few files: several chunks on the wire. */
function bigZip(mib: number, tag = 'a'): Buffer {
  return buildZip([
    { name: 'tag.txt', data: tag },
    { name: 'blob.bin', data: randomBytes(mib * 1024 * 1024) },
  ]);
}

const partialFile = (h: DeployHarness, zip: Buffer): string => path.join(h.home, 'packages', 'partial', `${sha256Of(zip)}.part`);
const cachedFile = (h: DeployHarness, zip: Buffer): string => path.join(h.home, 'packages', `${sha256Of(zip)}.zip`);

describe('package transfer', () => {
  it('refuses corrupt bytes with package-corrupt naming both hashes, and keeps nothing', async () => {
    const h = await setup();
    const zip = bigZip(1);
    startJob(h.socket, 'corrupt', deployJob(zip));
    await servePackage(h.socket, 'corrupt', zip, {
      tamper: (bytes) => {
        bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
        return bytes;
      },
    });
    const result = await jobResult(h.socket, 'corrupt');
    expect(result).toMatchObject({ outcome: 'failed', bytesReceived: zip.length, error: { code: 'package-corrupt' } });
    const tampered = Buffer.from(zip);
    tampered[1000] = (tampered[1000] ?? 0) ^ 0xff;
    expect(result.error?.message).toContain(sha256Of(zip));
    expect(result.error?.message).toContain(sha256Of(tampered));
    expect(existsSync(cachedFile(h, zip))).toBe(false);
    expect(existsSync(partialFile(h, zip))).toBe(false);
    expect(existsSync(path.join(h.home, 'apps', 'shop', 'Test', 'releases', '1.0.0'))).toBe(false);
  });

  it('resumes from the partial file after the connection is cut mid-transfer', async () => {
    const h = await setup();
    const zip = bigZip(3);
    const cutAt = 1024 * 1024;
    startJob(h.socket, 'job-1', deployJob(zip));
    await servePackage(h.socket, 'job-1', zip, { limit: cutAt });
    // the tentacle has written what it got
    await waitFor(() => (statSync(partialFile(h, zip), { throwIfNoEntry: false })?.size ?? 0) === cutAt, 10_000, 'the partial file');
    const first = h.socket;
    const socket = await h.cut();
    // the aborted job's result went nowhere
    expect(jobMessages(first, 'job-result', 'job-1')).toEqual([]);

    startJob(socket, 'job-1', deployJob(zip));
    const served = await servePackage(socket, 'job-1', zip);
    expect(served.offset).toBe(cutAt);
    const result = await jobResult(socket, 'job-1');
    expect(result).toMatchObject({ outcome: 'success', bytesReceived: zip.length - cutAt });
    expect(jobText(socket, 'job-1')).toContain(`resuming the transfer of package Acme.Web 1.0.0 at byte ${cutAt} of ${zip.length}`);
    expect(existsSync(cachedFile(h, zip))).toBe(true);
    expect(existsSync(partialFile(h, zip))).toBe(false);
    expect(socket.invalid).toEqual([]);
  });

  it('fails the job on a chunk at the wrong offset or past the size', async () => {
    const h = await setup();
    const zip = bigZip(1);
    startJob(h.socket, 'gap', deployJob(zip));
    await jobMessage(h.socket, 'package-request', 'gap');
    await sendChunk(h.socket, 'gap', 0, zip.subarray(0, 1000));
    await sendChunk(h.socket, 'gap', 2000, zip.subarray(2000, 3000));
    const gap = await jobResult(h.socket, 'gap');
    expect(gap).toMatchObject({ outcome: 'failed', error: { code: 'transfer-failed' }, bytesReceived: 1000 });
    expect(gap.error?.message).toContain('offset 2000, but the next expected offset is 1000');

    const small = buildZip([{ name: 'a.txt', data: 'a' }]);
    startJob(h.socket, 'over', deployJob(small, { app: { project: 'other', environment: 'Test', slot: null } }));
    await jobMessage(h.socket, 'package-request', 'over');
    await sendChunk(h.socket, 'over', 0, Buffer.concat([small, Buffer.from('extra')]));
    const over = await jobResult(h.socket, 'over');
    expect(over).toMatchObject({ outcome: 'failed', error: { code: 'transfer-failed' } });
    expect(over.error?.message).toContain("more bytes than the package's size");
    expect(h.socket.invalid).toEqual([]);
  });

  it('answers chunks for unknown jobs and malformed chunks with an error message', async () => {
    const h = await setup();
    h.socket.ws.send(Buffer.concat([encodeChunkHeader('nobody', 0), Buffer.from('x')]), { binary: true });
    const unknown = await h.socket.nextMessage('error');
    expect(unknown).toMatchObject({ code: 'unknown-job', replyTo: 'nobody' });
    h.socket.ws.send(Buffer.from([9, 9, 9]), { binary: true });
    await waitFor(() => h.socket.messages.filter((m) => m.type === 'error').length === 2);
    expect(h.socket.messages.filter((m) => m.type === 'error')[1]).toMatchObject({ code: 'invalid-message', message: 'unknown chunk format 9' });
    h.socket.send({ type: 'job-cancel', jobId: 'ghost', reason: 'x' });
    await waitFor(() => h.socket.messages.filter((m) => m.type === 'error').length === 3);
    expect(h.socket.messages.filter((m) => m.type === 'error')[2]).toMatchObject({ code: 'unknown-job', replyTo: 'ghost' });
    expect(h.connection.connection.currentState).toBe('online');
  });

  it('fails the job with the hub reason on package-abort, keeping the partial bytes for a resume', async () => {
    const h = await setup();
    const zip = bigZip(2);
    startJob(h.socket, 'aborted', deployJob(zip));
    await servePackage(h.socket, 'aborted', zip, { limit: 512 * 1024 });
    h.socket.send({ type: 'package-abort', jobId: 'aborted', reason: 'the package was deleted from the hub' });
    const result = await jobResult(h.socket, 'aborted');
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'transfer-failed' } });
    expect(result.error?.message).toContain('the package was deleted from the hub');
    expect((await stat(partialFile(h, zip))).size).toBe(512 * 1024);
  });

  it('answers cancelled to a cancel during the transfer, and a later job resumes from the kept bytes', async () => {
    const h = await setup();
    const zip = bigZip(2);
    startJob(h.socket, 'first', deployJob(zip));
    await servePackage(h.socket, 'first', zip, { limit: 256 * 1024 });
    await waitFor(() => (statSync(partialFile(h, zip), { throwIfNoEntry: false })?.size ?? 0) === 256 * 1024, 10_000, 'the partial file');
    h.socket.send({ type: 'job-cancel', jobId: 'first', reason: 'changed my mind' });
    expect(await jobResult(h.socket, 'first')).toMatchObject({ outcome: 'cancelled', error: { code: 'cancelled' }, bytesReceived: 256 * 1024 });
    startJob(h.socket, 'second', deployJob(zip));
    expect((await servePackage(h.socket, 'second', zip)).offset).toBe(256 * 1024);
    expect(await jobResult(h.socket, 'second')).toMatchObject({ outcome: 'success', bytesReceived: zip.length - 256 * 1024 });
  });

  it('reports disk-full when a write fails with ENOSPC, and drops the partial file', async () => {
    const h = await setup({
      // the seam: a write that goes past the first 256 KiB fails as on a full disk
      beforePackageWrite: (_file, offset, length) => {
        if (offset + length > 256 * 1024) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
    });
    const zip = bigZip(2);
    startJob(h.socket, 'full', deployJob(zip));
    void servePackage(h.socket, 'full', zip, { chunkBytes: 64 * 1024 });
    const result = await jobResult(h.socket, 'full');
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'disk-full' } });
    expect(result.error?.message).toContain('the disk is full');
    await waitFor(() => !existsSync(partialFile(h, zip)));
    expect(existsSync(cachedFile(h, zip))).toBe(false);
  });

  it('transfers a package once when two apps need it at the same time', async () => {
    const h = await setup();
    const zip = bigZip(1);
    startJob(h.socket, 'one', deployJob(zip));
    startJob(h.socket, 'two', deployJob(zip, { app: { project: 'shop', environment: 'Test', slot: 'second' } }));
    await servePackage(h.socket, 'one', zip);
    const [one, two] = await Promise.all([jobResult(h.socket, 'one'), jobResult(h.socket, 'two')]);
    expect(one).toMatchObject({ outcome: 'success', bytesReceived: zip.length });
    expect(two).toMatchObject({ outcome: 'success', bytesReceived: 0 });
    expect(jobMessages(h.socket, 'package-request', 'two')).toEqual([]);
    expect(await readdir(path.join(h.home, 'packages'))).toEqual(expect.arrayContaining([`${sha256Of(zip)}.zip`]));
  });
});
