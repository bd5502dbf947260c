import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CuttleError, DEFAULT_ZIP_LIMITS } from '@cuttle/shared';
import { openDatabase, type Db } from '../db/open-database.js';
import { PackageRepository } from './package-repository.js';
import { PackageService, type PackageServiceOptions } from './package-service.js';
import { PackageStore } from './package-store.js';
import { buildZip } from '../../../test/support/raw-zip.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const zip = (marker: string) => buildZip([{ name: 'Deploy.sh', data: `echo ${marker}`, mode: 0o100755 }]);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof CuttleError ? error.code : `unexpected: ${(error as Error).message}`;
  }
  return 'no error';
}

describe('the upload pipeline', () => {
  let dir: string;
  let db: Db;
  let store: PackageStore;
  let service: PackageService;
  let inUse: Set<string>;

  const make = (options: Partial<PackageServiceOptions> = {}) => {
    service = new PackageService(
      new PackageRepository(db),
      store,
      { maxPackageSize: 1024 * 1024, uploadIdleTimeoutMs: 500, zipLimits: DEFAULT_ZIP_LIMITS, keepPackageVersions: null, ...options },
      () => new Date('2026-01-02T03:04:05.000Z'),
      pino({ level: 'silent' }),
      (id, version) => inUse.has(`${id}@${version}`),
    );
  };
  const tmpFiles = () => readdirSync(store.tmpDir);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cuttle-unit-'));
    db = openDatabase(path.join(dir, 'cuttle.db')).db;
    store = new PackageStore(path.join(dir, 'packages'), path.join(dir, 'tmp'), path.join(dir, 'trash'));
    store.init();
    inUse = new Set();
    make();
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hashes, counts and stores the body under its SHA-256', async () => {
    const body = zip('a');
    const result = await service.ingest(Readable.from([body.subarray(0, 10), body.subarray(10)]), {
      fileName: 'App.1.0.0.zip',
      overwriteMode: 'FailIfExists',
      uploadedBy: 'ci',
      expectedSize: body.length,
    });
    expect(result).toEqual({
      created: true,
      package: { id: 'App', version: '1.0.0', sha256: sha256(body), size: body.length, uploadedAt: '2026-01-02T03:04:05.000Z', uploadedBy: 'ci' },
    });
    expect(existsSync(store.blobPath(sha256(body)))).toBe(true);
    expect(tmpFiles()).toEqual([]);
  });

  it('stores identical bytes of two versions once and keeps them until both are gone', async () => {
    const body = zip('same');
    await service.ingest(Readable.from([body]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null });
    await service.ingest(Readable.from([body]), { fileName: 'App.1.0.1.zip', overwriteMode: 'FailIfExists', uploadedBy: null });
    expect(store.listBlobs()).toEqual([sha256(body)]);
    service.delete('App', '1.0.0');
    expect(store.listBlobs()).toEqual([sha256(body)]);
    service.delete('App', '1.0.1');
    expect(store.listBlobs()).toEqual([]);
  });

  it('refuses a body over the maximum while streaming and removes the temp file', async () => {
    make({ maxPackageSize: 100 });
    const code = await codeOf(service.ingest(Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null }));
    expect(code).toBe('package-too-large');
    expect(tmpFiles()).toEqual([]);
  });

  it('refuses an announced size over the maximum before reading anything', async () => {
    make({ maxPackageSize: 100 });
    const source = new PassThrough();
    const code = await codeOf(service.ingest(source, { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null, expectedSize: 101 }));
    expect(code).toBe('package-too-large');
    expect(source.readableFlowing).toBeNull();
  });

  it('refuses a body shorter than announced', async () => {
    const body = zip('short');
    const code = await codeOf(service.ingest(Readable.from([body]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null, expectedSize: body.length + 5 }));
    expect(code).toBe('upload-incomplete');
    expect(tmpFiles()).toEqual([]);
  });

  it('turns a source that fails midway into upload-incomplete and leaves nothing', async () => {
    const source = new PassThrough();
    const pending = service.ingest(source, { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null });
    source.write(Buffer.alloc(1000));
    await new Promise((r) => setTimeout(r, 20));
    source.destroy(new Error('socket hang up'));
    expect(await codeOf(pending)).toBe('upload-incomplete');
    expect(tmpFiles()).toEqual([]);
    expect(service.list()).toEqual([]);
  });

  it('cuts off a source that stalls', async () => {
    const source = new PassThrough();
    const pending = service.ingest(source, { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null });
    source.write(Buffer.alloc(10));
    expect(await codeOf(pending)).toBe('upload-timeout');
    expect(tmpFiles()).toEqual([]);
  });

  it('checks the zip after receiving it and keeps nothing of a bad one', async () => {
    expect(await codeOf(service.ingest(Readable.from([Buffer.from('not a zip')]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null }))).toBe('invalid-zip');
    expect(await codeOf(service.ingest(Readable.from([Buffer.alloc(0)]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null }))).toBe('empty-package');
    expect(tmpFiles()).toEqual([]);
    expect(store.listBlobs()).toEqual([]);
    expect(service.list()).toEqual([]);
  });

  it('lets exactly one of two racing uploads of a version win', async () => {
    const results = await Promise.allSettled([
      service.ingest(Readable.from([zip('one')]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null }),
      service.ingest(Readable.from([zip('two')]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(service.list()).toHaveLength(1);
    expect(store.listBlobs()).toHaveLength(1);
    expect(tmpFiles()).toEqual([]);
  });

  it('answers IgnoreIfExists from the existing package without reading the body', async () => {
    const first = zip('first');
    await service.ingest(Readable.from([first]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null });
    const source = new PassThrough();
    const result = await service.ingest(source, { fileName: 'App.1.0.0.zip', overwriteMode: 'IgnoreIfExists', uploadedBy: null });
    expect(result).toMatchObject({ created: false, package: { sha256: sha256(first) } });
    expect(source.readableFlowing).toBeNull();
  });

  it('never lets retention delete a version that is in use', async () => {
    make({ keepPackageVersions: 1 });
    inUse.add('App@1.0.0');
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) await service.ingest(Readable.from([zip(v)]), { fileName: `App.${v}.zip`, overwriteMode: 'FailIfExists', uploadedBy: null });
    expect(service.list('App').map((p) => p.version)).toEqual(['1.2.0', '1.0.0']);
    expect(await codeOf(Promise.resolve().then(() => service.delete('App', '1.0.0')))).toBe('package-in-use');
  });

  it('removes blobs no package refers to', async () => {
    const body = zip('kept');
    await service.ingest(Readable.from([body]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null });
    const orphan = store.blobPath('ab'.repeat(32));
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path.dirname(orphan), { recursive: true });
    writeFileSync(orphan, 'orphan');
    expect(service.collectGarbage()).toBe(1);
    expect(store.listBlobs()).toEqual([sha256(body)]);
  });
  it('turns a source that fails before the temp file exists into upload-incomplete, without crashing', async () => {
    const source = new PassThrough();
    const pending = service.ingest(source, { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null });
    // emitted while receive() still awaits the temp file
    source.destroy(new Error('socket hang up'));
    expect(await codeOf(pending)).toBe('upload-incomplete');
    expect(tmpFiles()).toEqual([]);
    expect(service.list()).toEqual([]);
  });

  it('refuses to overwrite a version a release uses, before and after reading the body', async () => {
    const original = zip('original');
    await service.ingest(Readable.from([original]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null });
    inUse.add('App@1.0.0');
    const source = new PassThrough();
    expect(await codeOf(service.ingest(source, { fileName: 'App.1.0.0.zip', overwriteMode: 'OverwriteExisting', uploadedBy: null }))).toBe('package-in-use');
    expect(source.readableFlowing).toBeNull();

    // a release takes the version while the replacement is arriving
    inUse.clear();
    const late = new PassThrough();
    const pending = service.ingest(late, { fileName: 'App.1.0.0.zip', overwriteMode: 'OverwriteExisting', uploadedBy: null });
    inUse.add('App@1.0.0');
    late.end(zip('replacement'));
    expect(await codeOf(pending)).toBe('package-in-use');
    expect(service.get('App', '1.0.0').sha256).toBe(sha256(original));
    expect(store.listBlobs()).toEqual([sha256(original)]);
    expect(tmpFiles()).toEqual([]);
  });

  it('keeps the bytes a release refers to after their package row is gone', async () => {
    const body = zip('released');
    await service.ingest(Readable.from([body]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null });
    db.prepare(`INSERT INTO projects (id, name, definition, created_at, updated_at) VALUES (1, 'Shop', '{}', 'now', 'now')`).run();
    db.prepare(`INSERT INTO releases (id, project_id, version, steps, created_at) VALUES (1, 1, '0.0.1', '[]', 'now')`).run();
    db.prepare(`INSERT INTO release_packages (release_id, package_id, version, sha256, size) VALUES (1, 'App', '1.0.0', ?, ?)`).run(sha256(body), body.length);
    // the row goes (isInUse is faked as false here); the blob stays, and garbage collection keeps it
    service.delete('App', '1.0.0');
    expect(store.listBlobs()).toEqual([sha256(body)]);
    expect(service.collectGarbage()).toBe(0);
    expect(store.listBlobs()).toEqual([sha256(body)]);
    db.prepare('DELETE FROM releases WHERE id = 1').run();
    expect(service.collectGarbage()).toBe(1);
    expect(store.listBlobs()).toEqual([]);
  });

  it('opens the bytes before answering, and says package-not-found if they are gone', async () => {
    const body = zip('open');
    const result = await service.ingest(Readable.from([body]), { fileName: 'App.1.0.0.zip', overwriteMode: 'FailIfExists', uploadedBy: null });
    const chunks: Buffer[] = [];
    for await (const chunk of await service.openContent(result.package)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(body)).toBe(true);
    store.remove(result.package.sha256);
    expect(await codeOf(service.openContent(result.package))).toBe('package-not-found');
  });
});
