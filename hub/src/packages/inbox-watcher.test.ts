import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ZIP_LIMITS } from '@cuttle/shared';
import { openDatabase, type Db } from '../db/open-database.js';
import { InboxWatcher, REJECTED_DIR } from './inbox-watcher.js';
import { PackageRepository } from './package-repository.js';
import { PackageService, type IngestRequest, type IngestResult } from './package-service.js';
import { PackageStore } from './package-store.js';
import { buildZip } from '../../../test/support/raw-zip.js';

const silent = pino({ level: 'silent' });
const zip = (marker: string) => buildZip([{ name: 'Deploy.sh', data: `echo ${marker}`, mode: 0o100755 }]);

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the inbox watcher', () => {
  let dir: string;
  let inbox: string;
  let db: Db;
  let service: PackageService;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cuttle-inbox-unit-'));
    inbox = path.join(dir, 'inbox');
    mkdirSync(path.join(inbox, REJECTED_DIR), { recursive: true });
    db = openDatabase(path.join(dir, 'cuttle.db')).db;
    const store = new PackageStore(path.join(dir, 'packages'), path.join(dir, 'tmp'), path.join(dir, 'trash'));
    store.init();
    service = new PackageService(
      new PackageRepository(db),
      store,
      { maxPackageSize: 1024 * 1024, uploadIdleTimeoutMs: 5_000, zipLimits: DEFAULT_ZIP_LIMITS, keepPackageVersions: null },
      () => new Date('2026-01-02T03:04:05.000Z'),
      silent,
    );
  });
  afterEach(() => {
    db.close();
    chmodSync(inbox, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  const rejectionOf = (fileName: string) => readFileSync(path.join(inbox, REJECTED_DIR, `${fileName}.error.txt`), 'utf8');

  it('rejects a file it cannot open, with the reason, instead of crashing', async () => {
    // a symlink to itself cannot be opened, even by root (which can read any mode)
    const file = path.join(inbox, 'Loop.1.0.0.zip');
    symlinkSync('Loop.1.0.0.zip', file);
    await new InboxWatcher(service, { dir: inbox, overwriteMode: 'FailIfExists', settleMs: 50 }, silent).ingestFile(file);
    expect(rejectionOf('Loop.1.0.0.zip')).toMatch(/code: invalid-request\nreason: cannot read the file \(ELOOP\)/);
    expect(readdirSync(inbox)).toEqual([REJECTED_DIR]);
    expect(service.list()).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('rejects a file without read permission', async () => {
    const file = path.join(inbox, 'Locked.1.0.0.zip');
    writeFileSync(file, zip('locked'), { mode: 0o000 });
    await new InboxWatcher(service, { dir: inbox, overwriteMode: 'FailIfExists', settleMs: 50 }, silent).ingestFile(file);
    expect(rejectionOf('Locked.1.0.0.zip')).toMatch(/cannot read the file \(EACCES\)/);
  });

  it('skips a file that is gone or is not a regular file', async () => {
    const watcher = new InboxWatcher(service, { dir: inbox, overwriteMode: 'FailIfExists', settleMs: 50 }, silent);
    await watcher.ingestFile(path.join(inbox, 'Gone.1.0.0.zip'));
    mkdirSync(path.join(inbox, 'Folder.1.0.0.zip'));
    await watcher.ingestFile(path.join(inbox, 'Folder.1.0.0.zip'));
    expect(readdirSync(path.join(inbox, REJECTED_DIR))).toEqual([]);
    expect(existsSync(path.join(inbox, 'Folder.1.0.0.zip'))).toBe(true);
  });

  it('on stop, finishes the file in hand and leaves the queued ones in the inbox', async () => {
    const names = ['A.1.0.0.zip', 'B.1.0.0.zip', 'C.1.0.0.zip', 'D.1.0.0.zip'];
    for (const name of names) writeFileSync(path.join(inbox, name), zip(name));
    const taken: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = {
      async ingest(source: Readable, request: IngestRequest): Promise<IngestResult> {
        taken.push(request.fileName);
        source.resume();
        await gate;
        return { created: true, package: { id: 'X', version: '1.0.0', sha256: '0'.repeat(64), size: 1, uploadedAt: '', uploadedBy: 'inbox' } };
      },
    } as unknown as PackageService;
    const watcher = new InboxWatcher(slow, { dir: inbox, overwriteMode: 'FailIfExists', settleMs: 50 }, silent);
    await watcher.start();
    await until(() => taken.length === 1, 'the first file to be taken');
    await new Promise((r) => setTimeout(r, 300)); // the others are seen and queued meanwhile
    const stopped = watcher.stop();
    release();
    await stopped;
    expect(taken).toHaveLength(1);
    const left = readdirSync(inbox).filter((name) => name.endsWith('.zip'));
    expect(left.sort()).toEqual(names.filter((name) => name !== taken[0]));
  });
});
