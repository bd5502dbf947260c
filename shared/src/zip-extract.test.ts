import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import archiver from 'archiver';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, linkSync, readdirSync, statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants } from 'node:zlib';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buildZip } from '../../test/support/raw-zip.js';
import type { RawEntry } from '../../test/support/raw-zip.js';
import { CuttleError } from './errors.js';
import { DEFAULT_ZIP_LIMITS } from './zip-check.js';
import { extractZip } from './zip-extract.js';
import { resetInflaterCheck } from './zip-inflater.js';
import { SMALL_ENTRY_SIZE } from './zip-extract-batch.js';
import { inSlices } from './zip-slices.js';
import { EntryCheck, EntryCounter } from './zip-extract-stream.js';
import type { UnpackedTotal } from './zip-extract-stream.js';
import { assertCreatedInside } from './zip-extract-tree.js';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cuttle-zip-extract-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh folder per test: `pkg.zip` and an empty `apps/`; the target is `apps/release`. */
interface Work {
  dir: string;
  zip: string;
  apps: string;
  target: string;
}

async function work(): Promise<Work> {
  const dir = await mkdtemp(join(root, 't-'));
  const apps = join(dir, 'apps');
  await mkdir(apps);
  return { dir, zip: join(dir, 'pkg.zip'), apps, target: join(apps, 'release') };
}

async function raw(w: Work, entries: RawEntry[], patch?: (bytes: Buffer) => void): Promise<string> {
  const bytes = buildZip(entries);
  patch?.(bytes);
  await writeFile(w.zip, bytes);
  return w.zip;
}

/** A real zip made by archiver 7, as `cuttle pack` makes them. */
async function archive(w: Work, add: (zip: archiver.Archiver) => void, options: archiver.ZipOptions = {}): Promise<string> {
  const zip = archiver('zip', options);
  add(zip);
  const written = pipeline(zip, createWriteStream(w.zip));
  await zip.finalize();
  await written;
  return w.zip;
}

/** Every path below `dir`, relative, sorted; symlinks are listed, not followed. */
async function tree(dir: string, prefix = ''): Promise<string[]> {
  const paths: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = prefix + entry.name;
    paths.push(path);
    if (entry.isDirectory()) paths.push(...(await tree(join(dir, entry.name), `${path}/`)));
  }
  return paths.sort();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the extraction to fail');
    },
    (error: unknown) => error,
  );
}

async function cuttleFailure(promise: Promise<unknown>, code: CuttleError['code']): Promise<CuttleError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(CuttleError);
  expect((error as CuttleError).code).toBe(code);
  return error as CuttleError;
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o7777;
const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** Where entry `index`'s data starts in a buildZip zip (local header 30 bytes + name, no extra field). */
function dataOffset(entries: RawEntry[], index: number): number {
  let offset = 0;
  for (const [i, entry] of entries.entries()) {
    const name = Buffer.byteLength(entry.name);
    if (i === index) return offset + 30 + name;
    const data = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data ?? '');
    if (entry.deflate) throw new Error('dataOffset only walks over stored entries');
    offset += 30 + name + data.length;
  }
  throw new Error(`no entry ${index}`);
}

/** Offset of the first central directory record of a zip without a comment. */
const centralOffset = (bytes: Buffer): number => bytes.readUInt32LE(bytes.length - 22 + 16);

function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

/**
 * Every extraction suite runs twice: with the reused inflate engine (node:zlib's internals, the
 * normal case) and with node:zlib's public API only, the path taken where those internals are missing.
 */
function extractionSuites(): void {
describe('extractZip: a good package', () => {
  it('extracts nested and empty folders, modes, an empty file, safe symlinks and a 20 MiB entry, exactly', async () => {
    const w = await work();
    const big = Buffer.from(randomBytes(15 * 1024 * 1024).toString('base64')); // 20 MiB, compressible
    const medium = randomBytes(300 * 1024);
    const deploy = '#!/bin/bash\necho deployed\n';
    await archive(w, (zip) => {
      zip.append('module.exports = 1;\n', { name: 'app/lib/util/helpers.js' });
      zip.append('require("./lib/util/helpers");\n', { name: 'app/index.js' });
      zip.append('', { name: 'logs/' });
      zip.append(deploy, { name: 'Deploy.sh', mode: 0o755 });
      zip.append('', { name: 'config/empty.json' });
      zip.append('secret', { name: 'config/secret.txt', mode: 0o640 });
      zip.append('anyone', { name: 'world.txt', mode: 0o666 });
      zip.append(big, { name: 'big/data.txt' });
      zip.append(medium, { name: 'big/medium.bin', store: true });
      zip.symlink('current-lib', 'app/lib');
      zip.symlink('bin/run', '../Deploy.sh');
    });
    const zipSha = sha256(await readFile(w.zip)).toUpperCase(); // case does not matter

    let previous: number | undefined;
    try {
      previous = process.umask(0o077); // file and folder modes must survive a strict umask
    } catch {
      previous = undefined; // worker threads cannot change the umask
    }
    let result;
    try {
      result = await extractZip(w.zip, w.target, { expectedSha256: zipSha });
    } finally {
      if (previous !== undefined) process.umask(previous);
    }

    const bytes = ['module.exports = 1;\n', 'require("./lib/util/helpers");\n', deploy, 'secret', 'anyone'].reduce((sum, text) => sum + text.length, 0);
    expect(result).toEqual({
      files: 8,
      directories: 7,
      symlinks: 2,
      bytes: bytes + big.length + medium.length,
      // the regular files only (no folders, no symlinks), sorted
      filePaths: ['Deploy.sh', 'app/index.js', 'app/lib/util/helpers.js', 'big/data.txt', 'big/medium.bin', 'config/empty.json', 'config/secret.txt', 'world.txt'],
    });
    expect(await tree(w.target)).toEqual([
      'Deploy.sh',
      'app',
      'app/index.js',
      'app/lib',
      'app/lib/util',
      'app/lib/util/helpers.js',
      'big',
      'big/data.txt',
      'big/medium.bin',
      'bin',
      'bin/run',
      'config',
      'config/empty.json',
      'config/secret.txt',
      'current-lib',
      'logs',
      'world.txt',
    ]);
    expect(sha256(await readFile(join(w.target, 'big/data.txt')))).toBe(sha256(big));
    expect((await readFile(join(w.target, 'big/medium.bin'))).equals(medium)).toBe(true);
    expect(await readFile(join(w.target, 'app/lib/util/helpers.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect((await stat(join(w.target, 'config/empty.json'))).size).toBe(0);
    expect((await stat(join(w.target, 'logs'))).isDirectory()).toBe(true);
    expect(await readdir(join(w.target, 'logs'))).toEqual([]);

    expect(await mode(w.target)).toBe(0o755);
    expect(await mode(join(w.target, 'Deploy.sh'))).toBe(0o755);
    expect(await mode(join(w.target, 'config/secret.txt'))).toBe(0o640);
    expect(await mode(join(w.target, 'world.txt'))).toBe(0o644);
    expect(await mode(join(w.target, 'app/index.js'))).toBe(0o644);
    expect(await mode(join(w.target, 'app/lib'))).toBe(0o755);
    expect(await mode(join(w.target, 'logs'))).toBe(0o755);

    expect(await readlink(join(w.target, 'current-lib'))).toBe('app/lib');
    expect(await readlink(join(w.target, 'bin/run'))).toBe('../Deploy.sh');
    const realTarget = await realpath(w.target);
    expect(await realpath(join(w.target, 'current-lib'))).toBe(join(realTarget, 'app/lib'));
    expect(await readFile(join(w.target, 'bin/run'), 'utf8')).toBe(deploy);
    expect(await readFile(join(w.target, 'current-lib/util/helpers.js'), 'utf8')).toBe('module.exports = 1;\n');
  });

  it('creates the parent of the target and keeps at most 755, giving folders owner rwx', async () => {
    const w = await work();
    await raw(w, [
      { name: 'ro/', mode: 0o040555 },
      { name: 'ro/read-only.txt', data: 'r', mode: 0o100444 },
      { name: 'setuid', data: '#!/bin/sh\n', mode: 0o104755 },
      { name: 'open.txt', data: 'o', mode: 0o100666 },
    ]);
    const target = join(w.apps, 'project', 'env', 'release');
    await extractZip(w.zip, target);
    expect(await mode(join(target, 'ro'))).toBe(0o755);
    expect(await mode(join(target, 'ro/read-only.txt'))).toBe(0o444);
    expect(await mode(join(target, 'setuid'))).toBe(0o755);
    expect(await mode(join(target, 'open.txt'))).toBe(0o644);
    // the tentacle must be able to prune the release later
    await rm(target, { recursive: true });
    expect(existsSync(target)).toBe(false);
  });
});

describe('extractZip: many small files, streamed ones between them, symlinks last', () => {
  it('writes hundreds of small files with their bytes and modes under a strict umask, with streamed entries in between', async () => {
    const w = await work();
    const modes = [0o644, 0o755, 0o600, 0o640, 0o700, 0o444];
    const entries: RawEntry[] = [];
    for (let i = 0; i < 600; i++) {
      const data = `file ${i}: ${'abcdefghij'.repeat(i % 50)}\n`;
      entries.push({ name: `d${i % 30}/sub${i % 3}/f${i}.txt`, data, deflate: i % 4 !== 0, mode: 0o100000 | (modes[i % modes.length] ?? 0o644) });
      if (i === 200) entries.push({ name: 'd0/big-stored.bin', data: randomBytes(SMALL_ENTRY_SIZE + 1000), mode: 0o100755 });
      if (i === 400) entries.push({ name: 'd1/big-deflated.txt', data: randomBytes(SMALL_ENTRY_SIZE).toString('base64'), deflate: true, mode: 0o100640 });
    }
    await raw(w, entries);

    let previous: number | undefined;
    try {
      previous = process.umask(0o077);
    } catch {
      previous = undefined; // worker threads cannot change the umask
    }
    let result;
    try {
      result = await extractZip(w.zip, w.target);
    } finally {
      if (previous !== undefined) process.umask(previous);
    }

    const folders = new Set(entries.flatMap(({ name }) => name.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    expect(result).toMatchObject({ files: 602, directories: folders.size, symlinks: 0 });
    for (const entry of entries) {
      const path = join(w.target, entry.name);
      expect((await readFile(path)).equals(Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data ?? ''))).toBe(true);
      expect(await mode(path)).toBe((entry.mode ?? 0) & 0o777);
    }
    expect(await mode(join(w.target, 'd7/sub1'))).toBe(0o755);
  });

  it('creates symlinks listed before what they point to, and links into folders and to files that work afterwards', async () => {
    const w = await work();
    await raw(w, [
      { name: 'current', data: 'releases/v2', mode: 0o120777 },
      { name: 'bin/run', data: '../current/run.sh', mode: 0o120777 },
      { name: 'releases/v2/run.sh', data: '#!/bin/sh\necho v2\n', mode: 0o100755 },
      { name: 'releases/v2/app/index.js', data: 'module.exports = 2;\n', deflate: true },
    ]);
    expect(await extractZip(w.zip, w.target)).toMatchObject({ files: 2, symlinks: 2 });
    expect(await readlink(join(w.target, 'current'))).toBe('releases/v2');
    expect(await readlink(join(w.target, 'bin/run'))).toBe('../current/run.sh');
    expect(await readFile(join(w.target, 'bin/run'), 'utf8')).toBe('#!/bin/sh\necho v2\n');
    expect(await readFile(join(w.target, 'current/app/index.js'), 'utf8')).toBe('module.exports = 2;\n');
    expect((await stat(join(w.target, 'releases/v2/app'))).isDirectory()).toBe(true);
  });
});

describe('extractZip: zip layouts', () => {
  it('extracts a zip64 archive (zip64 end record, extra fields in both headers)', async () => {
    const w = await work();
    const big = randomBytes(SMALL_ENTRY_SIZE + 4096);
    await archive(
      w,
      (zip) => {
        zip.append('small text\n'.repeat(20), { name: 'docs/readme.txt' });
        zip.append(big, { name: 'bin/blob.bin', store: true } as archiver.EntryData);
        zip.append('#!/bin/sh\n', { name: 'Deploy.sh', mode: 0o755 });
        zip.symlink('current', 'docs');
      },
      { forceZip64: true },
    );
    expect(await extractZip(w.zip, w.target)).toMatchObject({ files: 3, symlinks: 1, bytes: 220 + big.length + 10 });
    expect(await readFile(join(w.target, 'current/readme.txt'), 'utf8')).toBe('small text\n'.repeat(20));
    expect((await readFile(join(w.target, 'bin/blob.bin'))).equals(big)).toBe(true);
    expect(await mode(join(w.target, 'Deploy.sh'))).toBe(0o755);
  });

  it('extracts entries whose central directory order is not the order of their data', async () => {
    const w = await work();
    const entries: RawEntry[] = Array.from({ length: 40 }, (_, i) => ({ name: `f${String(i).padStart(2, '0')}.txt`, data: `entry ${i}\n`.repeat(i + 1), deflate: i % 2 === 0 }));
    entries.splice(20, 0, { name: 'large.bin', data: randomBytes(SMALL_ENTRY_SIZE + 1) });
    await raw(w, entries, (bytes) => {
      // buildZip writes 46-byte records with names only: cut them apart and write them back reversed
      const start = centralOffset(bytes);
      const records: Buffer[] = [];
      for (let at = start; bytes.readUInt32LE(at) === 0x02014b50; at += 46 + bytes.readUInt16LE(at + 28)) {
        records.push(Buffer.from(bytes.subarray(at, at + 46 + bytes.readUInt16LE(at + 28))));
      }
      Buffer.concat(records.reverse()).copy(bytes, start);
    });
    expect(await extractZip(w.zip, w.target)).toMatchObject({ files: 41 });
    for (const entry of entries) expect((await readFile(join(w.target, entry.name))).equals(Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data ?? ''))).toBe(true);
  });
});

describe('extractZip: refusals leave nothing behind', () => {
  it('refuses a target that exists and leaves it untouched', async () => {
    const w = await work();
    await archive(w, (zip) => zip.append('new', { name: 'marker.txt' }));
    await mkdir(w.target);
    await writeFile(join(w.target, 'marker.txt'), 'old');
    const error = await cuttleFailure(extractZip(w.zip, w.target), 'extract-failed');
    expect(error.details).toMatchObject({ reason: 'target-exists' });
    expect(await tree(w.target)).toEqual(['marker.txt']);
    expect(await readFile(join(w.target, 'marker.txt'), 'utf8')).toBe('old');
  });

  it('refuses a SHA-256 mismatch with package-corrupt before creating the target', async () => {
    const w = await work();
    await archive(w, (zip) => zip.append('content', { name: 'file.txt' }));
    const wrong = sha256('something else');
    const error = await cuttleFailure(extractZip(w.zip, w.target, { expectedSha256: wrong }), 'package-corrupt');
    expect(error.details).toMatchObject({ expectedSha256: wrong, actualSha256: sha256(await readFile(w.zip)) });
    expect(existsSync(w.target)).toBe(false);
  });

  it.each([
    ['a small stored entry', 40],
    ['a large stored entry (streamed)', SMALL_ENTRY_SIZE + 300 * 1024],
  ])('refuses a CRC-32 mismatch in %s with package-corrupt and removes the target', async (_, size) => {
    const w = await work();
    const entries: RawEntry[] = [
      { name: 'first.txt', data: 'a good file written before the bad one' },
      { name: 'dir/bad.bin', data: randomBytes(size) },
      { name: 'last.txt', data: 'a good file after it' },
    ];
    await raw(w, entries, (bytes) => {
      const at = dataOffset(entries, 1) + 17;
      bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    });
    const error = await cuttleFailure(extractZip(w.zip, w.target), 'package-corrupt');
    expect(error.details).toMatchObject({ entry: 'dir/bad.bin' });
    expect(existsSync(w.target)).toBe(false);
    expect(await tree(w.dir)).toEqual(['apps', 'pkg.zip']);
  });

  it.each([
    ['a small entry', 40],
    ['a streamed entry', SMALL_ENTRY_SIZE + 1],
  ])('refuses %s whose local header is missing with invalid-zip and removes the target', async (_, size) => {
    const w = await work();
    const entries: RawEntry[] = [
      { name: 'first.txt', data: 'a good file' },
      { name: 'dir/lost.bin', data: randomBytes(size) },
    ];
    await raw(w, entries, (bytes) => bytes.writeUInt32LE(0x12345678, dataOffset(entries, 1) - 30 - 'dir/lost.bin'.length));
    const error = await cuttleFailure(extractZip(w.zip, w.target), 'invalid-zip');
    expect(error.details).toMatchObject({ entry: 'dir/lost.bin' });
    expect(existsSync(w.target)).toBe(false);
  });

  it('refuses an empty entry whose CRC-32 is not that of no bytes', async () => {
    const w = await work();
    await raw(w, [{ name: 'empty.txt' }, { name: 'other.txt', data: 'x' }], (bytes) => bytes.writeUInt32LE(0x12345678, centralOffset(bytes) + 16));
    await cuttleFailure(extractZip(w.zip, w.target), 'package-corrupt');
    expect(existsSync(w.target)).toBe(false);
  });

  it.each([
    ['more', 'small', 1000, 500],
    ['fewer', 'small', 1000, 2000],
    ['more', 'streamed', SMALL_ENTRY_SIZE + 300 * 1024, SMALL_ENTRY_SIZE + 200 * 1024],
    ['fewer', 'streamed', SMALL_ENTRY_SIZE + 300 * 1024, SMALL_ENTRY_SIZE + 400 * 1024],
  ])('refuses an entry that unpacks to %s bytes than declared (%s) with invalid-zip', async (_, __, real, claimed) => {
    const w = await work();
    // text that deflates like code does (well under the ratio limit)
    const data = Buffer.from(randomBytes(real).toString('base64').slice(0, real));
    await raw(w, [
      { name: 'ok.txt', data: 'fine' },
      { name: 'lies.txt', data, deflate: true, claimedSize: claimed },
    ]);
    const error = await cuttleFailure(extractZip(w.zip, w.target), 'invalid-zip');
    expect(error.details).toMatchObject({ entry: 'lies.txt', reason: 'size-mismatch', declared: claimed });
    expect(existsSync(w.target)).toBe(false);
  });

  it.each([
    ['small', 100],
    ['streamed', SMALL_ENTRY_SIZE + 200 * 1024],
  ])('refuses deflate data that cannot be inflated (%s) with invalid-zip', async (_, size) => {
    const w = await work();
    const entries: RawEntry[] = [
      { name: 'ok.txt', data: 'fine' },
      { name: 'broken.txt', data: randomBytes(size).toString('base64').slice(0, size), deflate: true },
    ];
    await raw(w, entries, (bytes) => {
      const start = dataOffset(entries, 1);
      bytes.fill(0xff, start, start + 4); // 0b11 is the reserved deflate block type
    });
    const error = await cuttleFailure(extractZip(w.zip, w.target), 'invalid-zip');
    expect(error.details).toMatchObject({ entry: 'broken.txt' });
    expect(existsSync(w.target)).toBe(false);
  });

  it('refuses a large deflated entry whose stream never ends, though its bytes and CRC-32 match', async () => {
    const w = await work();
    const size = SMALL_ENTRY_SIZE + 512 * 1024;
    const data = Buffer.from(randomBytes(size).toString('base64').slice(0, size));
    await raw(w, [
      { name: 'ok.txt', data: 'fine' },
      { name: 'open.txt', data, deflate: true, deflateOptions: { finishFlush: constants.Z_SYNC_FLUSH } },
    ]);
    const error = await cuttleFailure(extractZip(w.zip, w.target), 'invalid-zip');
    expect(error.details).toMatchObject({ entry: 'open.txt' });
    expect(existsSync(w.target)).toBe(false);
  });

  it('refuses a large deflated entry damaged after its first megabyte, and removes what was written', async () => {
    const w = await work();
    const size = 3 * SMALL_ENTRY_SIZE;
    const entries: RawEntry[] = [
      { name: 'ok.txt', data: 'fine' },
      { name: 'damaged.txt', data: randomBytes(size).toString('base64').slice(0, size), deflate: true },
    ];
    await raw(w, entries, (bytes) => {
      const at = dataOffset(entries, 1) + SMALL_ENTRY_SIZE + 512 * 1024;
      bytes.fill(0xa5, at, at + 64);
    });
    const error = await rejection(extractZip(w.zip, w.target));
    expect(error).toBeInstanceOf(CuttleError);
    expect(['invalid-zip', 'package-corrupt']).toContain((error as CuttleError).code);
    expect((error as CuttleError).details).toMatchObject({ entry: 'damaged.txt' });
    expect(existsSync(w.target)).toBe(false);
  });

  it('refuses a large entry whose local header places its data past the end of the zip', async () => {
    const w = await work();
    const entries: RawEntry[] = [
      { name: 'ok.txt', data: 'fine' },
      { name: 'shifted.bin', data: randomBytes(SMALL_ENTRY_SIZE + 4096) },
    ];
    // the local header's extra-field length moves the data start 64 KiB on: reading it runs off the end
    await raw(w, entries, (bytes) => bytes.writeUInt16LE(0xffff, dataOffset(entries, 1) - 'shifted.bin'.length - 2));
    const error = await cuttleFailure(extractZip(w.zip, w.target), 'invalid-zip');
    expect(error.details).toMatchObject({ entry: 'shifted.bin' });
    expect(existsSync(w.target)).toBe(false);
  });

  it('refuses a zip that unpacks to more than maxUnpackedSize with zip-limits-exceeded', async () => {
    const w = await work();
    await archive(w, (zip) => {
      for (const name of ['a.txt', 'b.txt', 'c.txt']) zip.append('x'.repeat(600), { name });
    });
    const error = await cuttleFailure(extractZip(w.zip, w.target, { limits: { ...DEFAULT_ZIP_LIMITS, maxUnpackedSize: 1000 } }), 'zip-limits-exceeded');
    expect(error.details).toMatchObject({ limit: 'maxUnpackedSize', max: 1000 });
    expect(existsSync(w.target)).toBe(false);
    await expect(extractZip(w.zip, w.target, { limits: { ...DEFAULT_ZIP_LIMITS, maxUnpackedSize: 1800 } })).resolves.toMatchObject({ bytes: 1800 });
  });

  // computed when the tests are collected, before beforeAll sets root
  const absolute = join(tmpdir(), `cuttle-zip-extract-absolute-${process.pid}.txt`);
  it.each<[string, RawEntry[]]>([
    ['a traversal name', [{ name: 'ok.txt', data: 'ok' }, { name: '../evil.txt', data: 'evil' }]],
    ['a nested traversal name', [{ name: 'a/', mode: 0o040755 }, { name: 'a/../../evil.txt', data: 'evil' }]],
    ['an absolute name', [{ name: absolute, data: 'evil' }]],
    ['a symlink that points outside', [{ name: 'out', data: '../..', mode: 0o120777 }]],
    ['an absolute symlink', [{ name: 'etc', data: '/etc', mode: 0o120777 }]],
    [
      'symlinks that escape together',
      [
        { name: 'here', data: '.', mode: 0o120777 },
        { name: 'up', data: 'here/..', mode: 0o120777 },
      ],
    ],
    [
      'a file below a symlink entry',
      [
        { name: 'real/', mode: 0o040755 },
        { name: 'link', data: 'real', mode: 0o120777 },
        { name: 'link/evil.txt', data: 'written through the link' },
      ],
    ],
  ])('refuses %s with unsafe-zip-entry and writes nothing anywhere', async (_, entries) => {
    const w = await work();
    await raw(w, entries);
    await cuttleFailure(extractZip(w.zip, w.target), 'unsafe-zip-entry');
    expect(existsSync(w.target)).toBe(false);
    expect(await tree(w.dir)).toEqual(['apps', 'pkg.zip']);
    expect(existsSync(join(root, 'evil.txt'))).toBe(false);
    expect(existsSync(absolute)).toBe(false);
  });
});

describe('extractZip: abort', () => {
  it('gives the event loop turns while one large entry inflates to many times its packed size', async () => {
    const w = await work();
    // 48 MiB of zeros packs to about 48 KiB: one packed piece, dozens of output buffers
    const data = Buffer.concat([Buffer.alloc(48 * SMALL_ENTRY_SIZE), randomBytes(512 * 1024)]);
    await raw(w, [{ name: 'sparse.img', data, deflate: true }]);
    const file = join(w.target, 'sparse.img');
    // turns of the event loop that saw the file half written: none if it were written in one synchronous go
    let halfWritten = 0;
    let counting = true;
    const tick = (): void => {
      if (!counting) return;
      const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
      if (size > 0 && size < data.length) halfWritten++;
      setImmediate(tick);
    };
    setImmediate(tick);
    try {
      const result = await extractZip(w.zip, w.target);
      expect(result.bytes).toBe(data.length);
    } finally {
      counting = false;
    }
    expect(sha256(await readFile(file))).toBe(sha256(data));
    expect(halfWritten).toBeGreaterThanOrEqual(2);
  });

  it('rejects with the reason of an already aborted signal and creates nothing', async () => {
    const w = await work();
    await archive(w, (zip) => zip.append('content', { name: 'file.txt' }));
    const reason = new Error('cancelled by the hub');
    await expect(extractZip(w.zip, w.target, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(await tree(w.dir)).toEqual(['apps', 'pkg.zip']);
  });

  it('stops between entries when aborted as the target appears, and removes it', async () => {
    const w = await work();
    const count = 400;
    await raw(
      w,
      Array.from({ length: count }, (_, i) => ({ name: `f${i}.txt`, data: `file ${i}\n`.repeat(50) })),
    );
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const created = new Set<string>();
    const watchers: FSWatcher[] = [];
    watchers.push(
      watch(w.apps, (_, name) => {
        if (name !== 'release' || controller.signal.aborted) return;
        controller.abort(reason);
        // count the files that still appear after the abort
        watchers.push(watch(w.target, (__, file) => file && created.add(file)));
      }),
    );
    try {
      await expect(extractZip(w.zip, w.target, { signal: controller.signal })).rejects.toBe(reason);
      await new Promise((done) => setTimeout(done, 100));
    } finally {
      for (const watcher of watchers) watcher.close();
    }
    expect(controller.signal.aborted).toBe(true);
    expect(existsSync(w.target)).toBe(false);
    expect(created.size).toBeLessThan(count / 4);
  });

  it.each([
    ['stored', false],
    ['deflated', true],
  ])('stops in the middle of a large %s entry, removes the target and leaks no file descriptor', async (_, deflate) => {
    const w = await work();
    const size = 64 * 1024 * 1024;
    // text for the deflated one: it packs to about three quarters, so there are many pieces to stop between
    await raw(w, [{ name: 'big.bin', data: deflate ? Buffer.from(randomBytes((size * 3) / 4).toString('base64')) : randomBytes(size), deflate }]);
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const peek = join(w.dir, 'peek');
    const watchers: FSWatcher[] = [];
    const fdsBefore = openFds();
    watchers.push(
      watch(w.apps, (_, name) => {
        if (name !== 'release' || watchers.length > 1) return;
        watchers.push(
          watch(w.target, (__, file) => {
            if (file !== 'big.bin' || controller.signal.aborted) return;
            linkSync(join(w.target, 'big.bin'), peek); // keeps the inode to see how far writing got
            controller.abort(reason);
          }),
        );
      }),
    );
    try {
      await expect(extractZip(w.zip, w.target, { signal: controller.signal })).rejects.toBe(reason);
    } finally {
      for (const watcher of watchers) watcher.close();
    }
    expect(controller.signal.aborted).toBe(true);
    expect(existsSync(w.target)).toBe(false);
    expect((await stat(peek)).size).toBeLessThan(size / 2);
    if (fdsBefore !== undefined) expect(openFds()).toBe(fdsBefore);
  });
});
}

describe.each([
  ['the reused inflate engine', undefined],
  ['node:zlib public API only', false],
])('extraction with %s', (_, usable) => {
  beforeAll(() => resetInflaterCheck(usable));
  afterAll(() => resetInflaterCheck());
  extractionSuites();
});

describe('inSlices', () => {
  const spin = (ms: number): undefined => {
    for (const end = performance.now() + ms; performance.now() < end; );
    return undefined;
  };

  it('gives the event loop turns between slices of synchronous steps', async () => {
    let turns = 0;
    let running = true;
    const tick = (): void => {
      if (!running) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    let steps = 0;
    // 40 steps of at least 1 ms: slices of a few ms must end several times
    await inSlices(Array.from({ length: 40 }, (_, i) => i), undefined, () => {
      steps++;
      return spin(1);
    });
    running = false;
    expect(steps).toBe(40);
    expect(turns).toBeGreaterThanOrEqual(4);
  });

  it('checks the signal before each slice and awaits a step that returns a promise', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const seen: number[] = [];
    const run = inSlices(Array.from({ length: 40 }, (_, i) => i), controller.signal, (item) => {
      seen.push(item);
      if (item === 2) return new Promise<void>((done) => setTimeout(() => {
        controller.abort(reason);
        done();
      }, 1));
      return undefined;
    });
    await expect(run).rejects.toBe(reason);
    expect(seen).toEqual([0, 1, 2]);
  });
});

describe('entry checks on real bytes', () => {
  const total = (max: number): UnpackedTotal => ({ bytes: 0, max });

  it('counts the running total on real bytes, across entries', () => {
    const shared = total(1000);
    const first = new EntryCheck({ path: 'a', size: 800, crc32: 0 }, shared);
    first.add(Buffer.alloc(600));
    const second = new EntryCheck({ path: 'b', size: 800, crc32: 0 }, shared);
    expect(() => second.add(Buffer.alloc(300))).not.toThrow();
    let error: unknown;
    try {
      second.add(Buffer.alloc(200));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CuttleError);
    expect((error as CuttleError).code).toBe('zip-limits-exceeded');
    expect((error as CuttleError).details).toMatchObject({ entry: 'b', value: 1100, max: 1000 });
  });

  it('stops a stream at the first byte past the declared size, before it is written', async () => {
    let written = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        callback();
      },
    });
    const chunks = [Buffer.alloc(60), Buffer.alloc(60), Buffer.alloc(60)];
    const error = await rejection(pipeline(Readable.from(chunks), new EntryCounter({ path: 'bomb', size: 100, crc32: 0 }, total(1e9)), sink));
    expect((error as CuttleError).code).toBe('invalid-zip');
    expect(written).toBe(60);
  });
});

describe('assertCreatedInside', () => {
  it('accepts files, folders and links that resolve inside, dangling or not, and the root itself', async () => {
    const w = await work();
    await mkdir(join(w.target, 'dir'), { recursive: true });
    await writeFile(join(w.target, 'dir/file'), 'x');
    await symlink('dir/file', join(w.target, 'link'));
    await symlink('.', join(w.target, 'self'));
    await symlink('dir/not-there', join(w.target, 'dangling'));
    const paths = ['dir', 'dir/file', 'link', 'self', 'dangling'].map((path) => join(w.target, path));
    await expect(assertCreatedInside(w.target, paths)).resolves.toBeUndefined();
  });

  it.each([
    ['a link to the parent', '..'],
    ['a dangling link outside', '../not-there'],
    ['an absolute link', '/'],
  ])('refuses %s with unsafe-zip-entry', async (_, target) => {
    const w = await work();
    await mkdir(w.target);
    await symlink(target, join(w.target, 'link'));
    const error = await rejection(assertCreatedInside(w.target, [join(w.target, 'link')]));
    expect((error as CuttleError).code).toBe('unsafe-zip-entry');
    expect((error as CuttleError).details).toMatchObject({ entry: 'link', reason: 'escapes-root' });
  });

  it('refuses a symlink loop', async () => {
    const w = await work();
    await mkdir(w.target);
    await symlink('b', join(w.target, 'a'));
    await symlink('a', join(w.target, 'b'));
    const error = await rejection(assertCreatedInside(w.target, [join(w.target, 'a')]));
    expect((error as CuttleError).details).toMatchObject({ reason: 'link-loop' });
  });
});
