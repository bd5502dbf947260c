import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import unzipper from 'unzipper';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError, describeError } from '../cli-error.js';
import { collectEntries } from '../pack/walk-tree.js';
import { writePackageZip } from '../pack/write-zip.js';
import { createTestIo, tempDir, testContext } from '../test-support/test-io.js';
import { runPack, type PackOptions } from './pack.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

interface ZipEntryInfo {
  path: string;
  type: string;
  mode: number;
  method: number;
  content: Buffer;
}

async function readZip(file: string): Promise<ZipEntryInfo[]> {
  const directory = await unzipper.Open.file(file);
  const entries: ZipEntryInfo[] = [];
  for (const entry of directory.files) {
    entries.push({
      path: entry.path,
      type: entry.type,
      mode: (entry.externalFileAttributes >>> 16) & 0xffff,
      method: entry.compressionMethod,
      content: entry.type === 'File' ? await entry.buffer() : Buffer.alloc(0),
    });
  }
  return entries;
}

function entry(entries: ZipEntryInfo[], name: string): ZipEntryInfo {
  const found = entries.find((e) => e.path === name);
  if (found === undefined) throw new Error(`no entry ${name} in ${entries.map((e) => e.path).join(', ')}`);
  return found;
}

async function caught(promise: Promise<unknown>): Promise<CliError | Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected a rejection');
}

describe('cuttle pack', () => {
  let root: string;
  let src: string;
  let out: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ dir: root, cleanup } = await tempDir());
    src = path.join(root, 'publish');
    out = path.join(root, 'out');
    await mkdir(path.join(src, 'bin'), { recursive: true });
    await mkdir(path.join(src, 'empty', 'deeper'), { recursive: true });
    await mkdir(path.join(src, 'logs'), { recursive: true });
    await mkdir(path.join(src, 'b'), { recursive: true });
    await writeFile(path.join(src, 'Deploy.sh'), '#!/bin/sh\necho deploying\n');
    await chmod(path.join(src, 'Deploy.sh'), 0o775);
    await writeFile(path.join(src, 'web.config'), '<configuration>'.repeat(200));
    await chmod(path.join(src, 'web.config'), 0o666);
    await writeFile(path.join(src, 'a-b.txt'), 'dash');
    await writeFile(path.join(src, 'b', 'inner.txt'), 'inner');
    await writeFile(path.join(src, 'bin', 'app.dll'), Buffer.alloc(4096, 7));
    await writeFile(path.join(src, 'bin', 'logo.PNG'), Buffer.alloc(4096, 1));
    await writeFile(path.join(src, 'bin', 'lib.jar'), Buffer.alloc(4096, 2));
    await writeFile(path.join(src, 'logs', 'today.log'), 'noise');
    await writeFile(path.join(src, 'trace.tmp'), 'noise');
    await symlink('../Deploy.sh', path.join(src, 'bin', 'deploy-link'));
    await chmod(path.join(src, 'bin', 'app.dll'), 0o4755); // setuid must not survive
  });
  afterEach(() => cleanup());

  async function pack(options: Partial<PackOptions> = {}, json = false) {
    const t = createTestIo({ cwd: root });
    const result = await runPack(testContext(t.io, { json }), { dir: 'publish', id: 'Acme.Web', version: '1.4.0', out: 'out', ...options });
    return { ...t, result };
  }

  it('writes <out>/<id>.<version>.zip with entries sorted by path, folders included', async () => {
    const { result, stdout } = await pack();
    const file = path.join(out, 'Acme.Web.1.4.0.zip');
    expect(result.file).toBe(file);
    expect(stdout()).toContain(`wrote ${file} (`);
    const entries = await readZip(file);
    expect(entries.map((e) => e.path)).toEqual([
      'Deploy.sh',
      'a-b.txt',
      'b/',
      'b/inner.txt',
      'bin/',
      'bin/app.dll',
      'bin/deploy-link',
      'bin/lib.jar',
      'bin/logo.PNG',
      'empty/',
      'empty/deeper/',
      'logs/',
      'logs/today.log',
      'trace.tmp',
      'web.config',
    ]);
    expect(result.entries).toBe(entries.length);
    expect(entry(entries, 'empty/deeper/').type).toBe('Directory');
    expect(entry(entries, 'b/inner.txt').content.toString()).toBe('inner');
    expect(entry(entries, 'web.config').content.toString()).toBe('<configuration>'.repeat(200));
  });

  it('keeps file modes masked with 0755 (Deploy.sh stays executable)', async () => {
    await pack();
    const entries = await readZip(path.join(out, 'Acme.Web.1.4.0.zip'));
    expect(entry(entries, 'Deploy.sh').mode & 0o7777).toBe(0o755);
    expect(entry(entries, 'web.config').mode & 0o7777).toBe(0o644);
    expect(entry(entries, 'bin/app.dll').mode & 0o7777).toBe(0o755);
    expect(entry(entries, 'bin/').mode & S_IFMT).toBe(S_IFDIR);
  });

  it('stores already-compressed formats and deflates the rest', async () => {
    await pack();
    const entries = await readZip(path.join(out, 'Acme.Web.1.4.0.zip'));
    expect(entry(entries, 'bin/logo.PNG').method).toBe(0);
    expect(entry(entries, 'bin/lib.jar').method).toBe(0);
    expect(entry(entries, 'bin/app.dll').method).toBe(8);
    expect(entry(entries, 'web.config').method).toBe(8);
    expect(entry(entries, 'bin/logo.PNG').content).toEqual(Buffer.alloc(4096, 1));
  });

  it('keeps a symlink that stays inside the folder as a symlink', async () => {
    await pack();
    const link = entry(await readZip(path.join(out, 'Acme.Web.1.4.0.zip')), 'bin/deploy-link');
    expect(link.mode & S_IFMT).toBe(S_IFLNK);
    expect(link.content.toString()).toBe('../Deploy.sh');
  });

  it('applies --exclude globs to relative posix paths; an excluded folder takes its content along', async () => {
    const { result } = await pack({ exclude: ['logs', '**/*.tmp', 'bin/*.jar'] });
    const names = (await readZip(result.file)).map((e) => e.path);
    expect(names).not.toContain('logs/');
    expect(names).not.toContain('logs/today.log');
    expect(names).not.toContain('trace.tmp');
    expect(names).not.toContain('bin/lib.jar');
    expect(names).toContain('bin/app.dll');
  });

  it('prints one JSON document with --json whose sha256 and size are the file\'s', async () => {
    const { stdout, result } = await pack({}, true);
    const doc = JSON.parse(stdout()) as Record<string, unknown>;
    const bytes = await readFile(result.file);
    expect(doc).toEqual({
      file: result.file,
      id: 'Acme.Web',
      version: '1.4.0',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      entries: 15,
    });
  });

  it('refuses a symlink pointing outside the folder, naming it, and leaves nothing behind', async () => {
    await writeFile(path.join(root, 'secret.txt'), 'secret');
    await symlink('../../secret.txt', path.join(src, 'bin', 'escape'));
    const error = await caught(pack());
    const report = describeError(error);
    expect(report).toMatchObject({ exitCode: 2, code: 'unsafe-symlink' });
    expect(report.message).toContain('bin/escape');
    expect(await readdir(root)).not.toContain('out');
  });

  it('refuses an absolute symlink even when it points inside', async () => {
    await symlink(path.join(src, 'Deploy.sh'), path.join(src, 'abs-link'));
    expect(describeError(await caught(pack()))).toMatchObject({ exitCode: 2, code: 'unsafe-symlink' });
  });

  it('refuses to overwrite an existing zip unless --overwrite', async () => {
    await mkdir(out);
    const file = path.join(out, 'Acme.Web.1.4.0.zip');
    await writeFile(file, 'old');
    expect(describeError(await caught(pack()))).toMatchObject({ exitCode: 1, code: 'output-exists' });
    expect(await readFile(file, 'utf8')).toBe('old');
    await pack({ overwrite: true });
    expect((await readZip(file)).length).toBe(15);
    expect(await readdir(out)).toEqual(['Acme.Web.1.4.0.zip']);
  });

  it('never packs the output zip itself when --out is inside the folder', async () => {
    await pack({ out: 'publish' });
    const { result } = await pack({ out: 'publish', overwrite: true });
    const names = (await readZip(result.file)).map((e) => e.path);
    expect(names).not.toContain('Acme.Web.1.4.0.zip');
    expect(names).toContain('Deploy.sh');
  });

  it('validates id and version before touching the disk', async () => {
    expect(describeError(await caught(pack({ id: 'Acme..Web' })))).toMatchObject({ exitCode: 2, code: 'invalid-package-id' });
    expect(describeError(await caught(pack({ version: '1.4' })))).toMatchObject({ exitCode: 2, code: 'invalid-version' });
    expect(describeError(await caught(pack({ dir: 'missing' })))).toMatchObject({ exitCode: 2, code: 'file-not-found' });
    expect(await readdir(root)).toEqual(['publish']);
  });

  it('refuses an --out that is a file (exit 2)', async () => {
    await writeFile(path.join(root, 'out'), 'not a folder');
    expect(describeError(await caught(pack()))).toMatchObject({ exitCode: 2, code: 'invalid-path' });
  });

  it('produces the same entry order on every run', async () => {
    const first = (await readZip((await pack()).result.file)).map((e) => e.path);
    const second = (await readZip((await pack({ overwrite: true })).result.file)).map((e) => e.path);
    expect(second).toEqual(first);
  });

  it('removes its temporary file when writing fails (a file vanished after the walk)', async () => {
    const entries = await collectEntries({ root: src, exclude: [] });
    await rm(path.join(src, 'b', 'inner.txt'));
    await mkdir(out);
    const error = await caught(writePackageZip(entries, path.join(out, 'Acme.Web.1.4.0.zip'), { overwrite: false }));
    expect(describeError(error)).toMatchObject({ exitCode: 1, code: 'pack-failed' });
    expect(await readdir(out)).toEqual([]);
  });

  it('stops and cleans up when interrupted', async () => {
    const entries = await collectEntries({ root: src, exclude: [] });
    await mkdir(out);
    const controller = new AbortController();
    controller.abort();
    const error = await caught(writePackageZip(entries, path.join(out, 'x.zip'), { overwrite: false, signal: controller.signal }));
    expect(describeError(error).code).toBe('interrupted');
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses files that are not files, folders or symlinks', async () => {
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [path.join(src, 'pipe')]);
    const report = describeError(await caught(pack()));
    expect(report).toMatchObject({ exitCode: 2, code: 'unsupported-file' });
    expect(report.message).toContain('pipe');
    expect((await stat(src)).isDirectory()).toBe(true);
  });
});
