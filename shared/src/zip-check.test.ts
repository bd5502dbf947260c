import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import archiver from 'archiver';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { crc32, deflateRawSync } from 'node:zlib';
import { CuttleError } from './errors.js';
import {
  DEFAULT_ZIP_LIMITS,
  assertSafeLinkTarget,
  centralDirectoryBudget,
  checkEntries,
  inspectZip,
  normalizeEntryName,
  type ZipEntryInfo,
  type ZipLimits,
} from './zip-check.js';

let dir = '';
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cuttle-zip-check-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function save(bytes: Buffer): Promise<string> {
  const path = join(dir, `raw-${counter++}.zip`);
  await writeFile(path, bytes);
  return path;
}

/** A real zip made by archiver 7, as `cuttle pack` makes them. */
async function archive(add: (zip: archiver.Archiver) => void, options: archiver.ZipOptions = {}): Promise<string> {
  const path = join(dir, `archiver-${counter++}.zip`);
  const zip = archiver('zip', options);
  add(zip);
  const written = pipeline(zip, createWriteStream(path));
  await zip.finalize();
  await written;
  return path;
}

interface RawEntry {
  name: string | Buffer;
  data?: string | Buffer;
  /** full unix st_mode; when set the entry is "made by" unix */
  unix?: number;
  flags?: number;
  method?: number;
  /** forged sizes written to both headers */
  size?: number;
  compressedSize?: number;
  /** central record: sizes and offset as 0xffffffff, the real values in a zip64 extra field (after `centralExtra`) */
  zip64?: boolean;
  centralExtra?: Buffer;
  localExtra?: Buffer;
}

/** A zip64 extended information extra field with these 64-bit values, in order. */
function zip64Field(values: number[]): Buffer {
  const field = Buffer.alloc(4 + 8 * values.length);
  field.writeUInt16LE(0x0001, 0);
  field.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, index) => field.writeBigUInt64LE(BigInt(value), 4 + 8 * index));
  return field;
}

/** Writes zip bytes by hand (local headers, central directory, end record), to forge what tools refuse to make. */
function rawZip(entries: RawEntry[], comment = ''): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const data = Buffer.from(entry.data ?? '');
    const method = entry.method ?? 0;
    const body = method === 8 ? deflateRawSync(data) : data;
    const fields = (header: Buffer, at: number): void => {
      header.writeUInt16LE(entry.flags ?? 0x800, at);
      header.writeUInt16LE(method, at + 2);
      header.writeUInt32LE(crc32(data), at + 8);
      header.writeUInt32LE(entry.compressedSize ?? body.length, at + 12);
      header.writeUInt32LE(entry.size ?? data.length, at + 16);
      header.writeUInt16LE(name.length, at + 20);
    };
    const localExtra = entry.localExtra ?? Buffer.alloc(0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    fields(local, 6);
    local.writeUInt16LE(localExtra.length, 28);
    let centralExtra = entry.centralExtra ?? Buffer.alloc(0);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(entry.unix === undefined ? 20 : (3 << 8) | 20, 4);
    record.writeUInt16LE(20, 6);
    fields(record, 8);
    record.writeUInt32LE(((entry.unix ?? 0) << 16) >>> 0, 38);
    record.writeUInt32LE(offset, 42);
    if (entry.zip64) {
      centralExtra = Buffer.concat([centralExtra, zip64Field([entry.size ?? data.length, entry.compressedSize ?? body.length, offset])]);
      for (const at of [20, 24, 42]) record.writeUInt32LE(0xffffffff, at);
    }
    record.writeUInt16LE(centralExtra.length, 30);
    locals.push(local, name, localExtra, body);
    central.push(record, name, centralExtra);
    offset += local.length + name.length + localExtra.length + body.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(Buffer.byteLength(comment), 20);
  return Buffer.concat([...locals, directory, end, Buffer.from(comment)]);
}

const link = (name: string, target: string | Buffer): RawEntry => ({ name, data: target, unix: 0o120777 });

async function failure(work: Promise<unknown> | (() => unknown)): Promise<CuttleError> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    if (error instanceof CuttleError) return error;
    throw error;
  }
  throw new Error('expected a CuttleError, nothing was thrown');
}

const info = (path: string, kind: ZipEntryInfo['kind'] = 'file', more: Partial<ZipEntryInfo> = {}): ZipEntryInfo => ({
  path,
  kind,
  size: 0,
  compressedSize: 0,
  mode: kind === 'file' ? 0o644 : 0o755,
  ...more,
});

describe('normalizeEntryName', () => {
  it.each([
    ['a.txt', 'a.txt'],
    ['app/bin/', 'app/bin'],
    ['dir/', 'dir'],
    ['a/b..c/.hidden', 'a/b..c/.hidden'],
  ])('accepts %j as %j', (name, path) => {
    expect(normalizeEntryName(name)).toBe(path);
  });

  it.each([
    ['', 'empty-name'],
    ['a\0b', 'nul'],
    ['a\\b', 'backslash'],
    ['..\\evil', 'backslash'],
    ['/abs', 'absolute'],
    ['C:/x', 'drive-letter'],
    ['c:x', 'drive-letter'],
    ['../evil', 'dot-segment'],
    ['a/../../b', 'dot-segment'],
    ['./a', 'dot-segment'],
    ['a/./b', 'dot-segment'],
    ['a/..', 'dot-segment'],
    ['a//b', 'empty-segment'],
    ['a//', 'empty-segment'],
  ])('refuses %j (%s)', async (name, reason) => {
    const error = await failure(() => normalizeEntryName(name));
    expect(error.code).toBe('unsafe-zip-entry');
    expect(error.details).toMatchObject({ entry: name, reason });
  });

  it('refuses names over 4096 bytes and segments over 255 bytes (name-too-long)', async () => {
    const segment = 'a'.repeat(255);
    const longest = Array.from({ length: 16 }, () => segment).join('/'); // 4095 bytes
    expect(normalizeEntryName(longest)).toBe(longest);
    expect(normalizeEntryName(`${longest}/`)).toBe(longest);
    const tooLong = await failure(() => normalizeEntryName(`${longest}/b`));
    expect(tooLong.code).toBe('unsafe-zip-entry');
    expect(tooLong.details).toMatchObject({ reason: 'name-too-long', bytes: 4097, max: 4096 });
    expect(String(tooLong.details?.['entry']).length).toBeLessThanOrEqual(200);
    expect(normalizeEntryName(`d/${segment}`)).toBe(`d/${segment}`);
    const longSegment = await failure(() => normalizeEntryName(`d/${segment}b/x`));
    expect(longSegment.details).toMatchObject({ entry: `d/${segment}b/x`, reason: 'name-too-long' });
    // bytes, not characters: 128 two-byte characters are 256 bytes
    expect((await failure(() => normalizeEntryName('é'.repeat(128)))).details).toMatchObject({ reason: 'name-too-long' });
  });
});

describe('assertSafeLinkTarget', () => {
  it.each([
    ['lib/current', 'v1'],
    ['lib/readme', '../README.md'],
    ['a/b/up', '../..'],
    ['top', '.'],
    ['a/x', './y/../z'],
  ])('lets %s -> %s stay inside', (path, target) => {
    expect(() => assertSafeLinkTarget(path, target)).not.toThrow();
  });

  it.each([
    ['lib/x', '../../etc/passwd', 'link-escapes-root'],
    ['x', '..', 'link-escapes-root'],
    ['a/x', 'b/../../../y', 'link-escapes-root'],
    ['x', '/etc/passwd', 'absolute-link-target'],
    ['x', 'C:/Windows', 'absolute-link-target'],
    ['x', 'a\\b', 'backslash'],
    ['x', 'a\0b', 'nul'],
    ['x', '', 'empty-link-target'],
    ['x', 'a/'.repeat(2049), 'link-target-too-long'],
  ])('refuses %s -> %j (%s)', async (path, target, reason) => {
    const error = await failure(() => assertSafeLinkTarget(path, target));
    expect(error.code).toBe('unsafe-zip-entry');
    expect(error.details).toMatchObject({ entry: path, reason });
  });
});

describe('checkEntries', () => {
  const limits: ZipLimits = { maxEntries: 10, maxUnpackedSize: 100, maxCompressionRatio: 10, ratioCheckMinSize: 50 };

  it('counts files and bytes', () => {
    const entries = [info('a', 'directory'), info('a/b', 'file', { size: 40, compressedSize: 40 }), info('a/l', 'symlink', { size: 1, compressedSize: 1, linkTarget: 'b' })];
    expect(checkEntries(entries, limits)).toEqual({ entries, fileCount: 1, totalSize: 41 });
  });

  it.each([
    ['a duplicate file', [info('a'), info('a')], 'a', 'duplicate'],
    ['a path as file and directory', [info('a', 'directory'), info('a')], 'a', 'duplicate'],
    ['a file used as a directory', [info('a'), info('a/b')], 'a/b', 'parent-not-directory'],
    ['a file used as a grandparent', [info('a/b/c'), info('a')], 'a/b/c', 'parent-not-directory'],
    ['an entry under a symlink', [info('l', 'symlink', { linkTarget: 'd' }), info('l/f')], 'l/f', 'parent-not-directory'],
    ['a path with a trailing slash', [info('a/')], 'a/', 'not-normalized'],
    ['a bad name', [info('../a')], '../a', 'dot-segment'],
    ['an unknown kind', [info('a', 'fifo' as ZipEntryInfo['kind'])], 'a', 'kind'],
    ['an unmasked mode', [info('a', 'file', { mode: 0o4777 })], 'a', 'mode'],
    ['a directory with data', [info('d', 'directory', { size: 3, compressedSize: 3 })], 'd', 'directory-with-data'],
    ['a symlink without target', [info('l', 'symlink')], 'l', 'empty-link-target'],
    ['an escaping symlink', [info('a/l', 'symlink', { linkTarget: '../..' })], 'a/l', 'link-escapes-root'],
    ['an escape through a symlink to the root', [info('s', 'symlink', { linkTarget: '.' }), info('e', 'symlink', { linkTarget: 's/..' })], 'e', 'link-escapes-root'],
    ['an escape through a nested symlink', [info('d', 'directory'), info('d/up', 'symlink', { linkTarget: '..' }), info('e', 'symlink', { linkTarget: 'd/up/../x' })], 'e', 'link-escapes-root'],
    ['a symlink loop', [info('a', 'symlink', { linkTarget: 'b' }), info('b', 'symlink', { linkTarget: 'a' })], 'a', 'link-loop'],
    ['a symlink to itself', [info('a', 'symlink', { linkTarget: 'a/x' })], 'a', 'link-loop'],
  ])('refuses %s', async (_title, entries, entry, reason) => {
    const error = await failure(() => checkEntries(entries, limits));
    expect(error.code).toBe('unsafe-zip-entry');
    expect(error.details).toMatchObject({ entry, reason });
  });

  it('accepts a symlink chain that stays inside', () => {
    const entries = [info('v1', 'directory'), info('current', 'symlink', { linkTarget: 'v1' }), info('app', 'symlink', { linkTarget: 'current/app' })];
    expect(checkEntries(entries, limits).entries).toHaveLength(3);
  });

  it('enforces maxEntries, maxUnpackedSize and maxCompressionRatio', async () => {
    const many = Array.from({ length: 11 }, (_, i) => info(`f${i}`));
    expect((await failure(() => checkEntries(many, limits))).details).toMatchObject({ limit: 'maxEntries', value: 11, max: 10 });
    expect(checkEntries(many.slice(1), limits).fileCount).toBe(10);

    const sized = (path: string, size: number, compressedSize = size): ZipEntryInfo => info(path, 'file', { size, compressedSize });
    const total = await failure(() => checkEntries([sized('a', 60), sized('b', 41)], limits));
    expect(total.code).toBe('zip-limits-exceeded');
    expect(total.details).toMatchObject({ entry: 'b', limit: 'maxUnpackedSize', value: 101, max: 100 });
    expect(checkEntries([sized('a', 60), sized('b', 40)], limits).totalSize).toBe(100);

    const ratio = await failure(() => checkEntries([sized('bomb', 50, 4)], limits));
    expect(ratio.code).toBe('zip-limits-exceeded');
    expect(ratio.details).toMatchObject({ entry: 'bomb', limit: 'maxCompressionRatio', max: 10 });
    expect((await failure(() => checkEntries([sized('empty-compressed', 50, 0)], limits))).code).toBe('zip-limits-exceeded');
    // under ratioCheckMinSize, or exactly at the ratio: allowed
    expect(checkEntries([sized('small', 49, 1), sized('edge', 50, 5)], limits).fileCount).toBe(2);
  });

  it('has the documented defaults', () => {
    expect(DEFAULT_ZIP_LIMITS).toEqual({ maxEntries: 100_000, maxUnpackedSize: 32 * 2 ** 30, maxCompressionRatio: 200, ratioCheckMinSize: 2 ** 20 });
  });
});

describe('inspectZip on zips made by archiver', () => {
  it('lists files, nested directories, modes and a safe relative symlink', async () => {
    const path = await archive((zip) => {
      zip.append('hello', { name: 'README.md' });
      zip.append('', { name: 'app/' });
      zip.append('console.log(1)', { name: 'app/bin/run.js' });
      zip.append('#!/bin/sh\necho deploy\n', { name: 'deploy.sh', mode: 0o755 });
      zip.append('setuid', { name: 'suid', mode: 0o4777 });
      zip.append('shared', { name: 'open', mode: 0o666 });
      zip.append('v1', { name: 'lib/v1/version.txt' });
      zip.symlink('lib/current', 'v1', 0o777);
      zip.symlink('lib/readme', '../README.md', 0o777);
    });
    const result = await inspectZip(path);
    const byPath = Object.fromEntries(result.entries.map((e) => [e.path, e]));
    expect(byPath['README.md']).toMatchObject({ kind: 'file', size: 5, mode: 0o644 });
    expect(byPath['app']).toMatchObject({ kind: 'directory', size: 0, mode: 0o755 });
    expect(byPath['app/bin/run.js']).toMatchObject({ kind: 'file', mode: 0o644 });
    expect(byPath['deploy.sh']).toMatchObject({ kind: 'file', mode: 0o755 });
    expect(byPath['suid']?.mode).toBe(0o755);
    expect(byPath['open']?.mode).toBe(0o644);
    expect(byPath['lib/current']).toMatchObject({ kind: 'symlink', linkTarget: 'v1', mode: 0o755 });
    expect(byPath['lib/readme']).toMatchObject({ kind: 'symlink', linkTarget: '../README.md' });
    expect(result.fileCount).toBe(6);
    expect(result.totalSize).toBe(result.entries.reduce((sum, e) => sum + e.size, 0));
  });

  it('reads stored files holding zip signatures and a zip comment longer than 58 bytes', async () => {
    const tricky = Buffer.concat([Buffer.from('PK\x07\x08'), Buffer.alloc(100, 1), Buffer.from('PK\x05\x06'), Buffer.alloc(30)]);
    const path = await archive((zip) => zip.append(tricky, { name: 'data.bin', store: true } as archiver.ZipEntryData), { comment: 'c'.repeat(200) });
    expect((await inspectZip(path)).entries).toEqual([{ path: 'data.bin', kind: 'file', size: tricky.length, compressedSize: tricky.length, mode: 0o644 }]);
  });

  it('refuses a real compression bomb (2 MiB of zeros)', async () => {
    const path = await archive((zip) => zip.append(Buffer.alloc(2 * 2 ** 20), { name: 'zeros.bin' }));
    const error = await failure(inspectZip(path));
    expect(error.code).toBe('zip-limits-exceeded');
    expect(error.details).toMatchObject({ entry: 'zeros.bin', limit: 'maxCompressionRatio', max: 200 });
  });

  it('applies the limits it is given', async () => {
    const path = await archive((zip) => ['a', 'b', 'c'].forEach((name) => zip.append('123456', { name })));
    const count = await failure(inspectZip(path, { ...DEFAULT_ZIP_LIMITS, maxEntries: 2 }));
    expect(count.code).toBe('zip-limits-exceeded');
    expect(count.details).toMatchObject({ limit: 'maxEntries', value: 3, max: 2 });
    const total = await failure(inspectZip(path, { ...DEFAULT_ZIP_LIMITS, maxUnpackedSize: 10 }));
    expect(total.details).toMatchObject({ entry: 'b', limit: 'maxUnpackedSize', value: 12, max: 10 });
    expect((await inspectZip(path, { ...DEFAULT_ZIP_LIMITS, maxEntries: 3, maxUnpackedSize: 18 })).fileCount).toBe(3);
  });
});

describe('inspectZip on forged zips', () => {
  it('takes kinds and default modes from entries not made on unix', async () => {
    const result = await inspectZip(await save(rawZip([{ name: 'd/' }, { name: 'd/a.txt', data: 'hi' }, { name: 'e/', unix: 0o000000 }, { name: 'f', unix: 0o100600 }])));
    expect(result.entries.map((e) => [e.path, e.kind, e.mode])).toEqual([
      ['d', 'directory', 0o755],
      ['d/a.txt', 'file', 0o644],
      ['e', 'directory', 0o755],
      ['f', 'file', 0o600],
    ]);
    expect(await inspectZip(await save(rawZip([])))).toEqual({ entries: [], fileCount: 0, totalSize: 0 });
  });

  it.each<[string, RawEntry[], string, string]>([
    ['a parent traversal', [{ name: '../evil', data: 'x' }], '../evil', 'dot-segment'],
    ['an absolute name', [{ name: '/abs', data: 'x' }], '/abs', 'absolute'],
    ['a drive letter', [{ name: 'C:/x', data: 'x' }], 'C:/x', 'drive-letter'],
    ['a backslash', [{ name: 'a\\b', data: 'x' }], 'a\\b', 'backslash'],
    ['a NUL', [{ name: 'a\0b', data: 'x' }], 'a\0b', 'nul'],
    ['an empty name', [{ name: '', data: 'x' }], '', 'empty-name'],
    ['an empty segment', [{ name: 'a//b', data: 'x' }], 'a//b', 'empty-segment'],
    ['a path segment over 255 bytes', [{ name: `d/${'s'.repeat(256)}`, data: 'x' }], `d/${'s'.repeat(256)}`, 'name-too-long'],
    ['a name that is not UTF-8', [{ name: Buffer.from([0x61, 0xff]), data: 'x' }], 'a\ufffd', 'encoding'],
    ['a duplicate', [{ name: 'a.txt', data: '1' }, { name: 'a.txt', data: '2' }], 'a.txt', 'duplicate'],
    ['a file and a directory of one name', [{ name: 'a', data: '1' }, { name: 'a/' }], 'a', 'duplicate'],
    ['a file used as a directory', [{ name: 'a', data: '1' }, { name: 'a/b', data: '2' }], 'a/b', 'parent-not-directory'],
    ['a FIFO', [{ name: 'p', unix: 0o010644 }], 'p', 'kind'],
    ['a character device', [{ name: 'c', unix: 0o020644 }], 'c', 'kind'],
    ['a block device', [{ name: 'b', unix: 0o060644 }], 'b', 'kind'],
    ['a socket', [{ name: 's', unix: 0o140644 }], 's', 'kind'],
    ['an encrypted entry', [{ name: 'secret', data: 'x', flags: 0x801 }], 'secret', 'encrypted'],
    ['an unsupported compression method', [{ name: 'x.bz2', data: 'x', method: 12 }], 'x.bz2', 'compression-method'],
    ['a directory with data', [{ name: 'd/', data: 'x', unix: 0o040755 }], 'd', 'directory-with-data'],
    ['a symlink to ../../etc/passwd', [link('lib/x', '../../etc/passwd')], 'lib/x', 'link-escapes-root'],
    ['an absolute symlink', [link('x', '/etc/passwd')], 'x', 'absolute-link-target'],
    ['a symlink with a backslash', [link('x', '..\\..\\x')], 'x', 'backslash'],
    ['a symlink with a NUL', [link('x', 'a\0b')], 'x', 'nul'],
    ['an empty symlink', [link('x', '')], 'x', 'empty-link-target'],
    ['a symlink target over 4 KiB', [link('x', 'a'.repeat(4097))], 'x', 'link-target-too-long'],
    ['a symlink target of 4097 bytes in segments', [link('x', 'a/'.repeat(2048) + 'b')], 'x', 'link-target-too-long'],
    ['a symlink announcing a 50 MB target', [{ ...link('x', 'a'.repeat(100)), method: 8, size: 50_000_000 }], 'x', 'link-target-too-long'],
    ['a symlink target that is not UTF-8', [link('x', Buffer.from([0xff]))], 'x', 'encoding'],
    ['an escape through a symlink', [link('s', '.'), link('e', 's/..')], 'e', 'link-escapes-root'],
    ['a write through a symlink', [link('l', 'd'), { name: 'l/f', data: 'x' }], 'l/f', 'parent-not-directory'],
  ])('refuses %s', async (_title, entries, entry, reason) => {
    const error = await failure(inspectZip(await save(rawZip(entries))));
    expect(error.code).toBe('unsafe-zip-entry');
    expect(error.details).toMatchObject({ entry, reason });
  });

  it('reads sizes and offsets from zip64 extra fields (after other fields) and places data after a local extra field', async () => {
    const timestamp = Buffer.from([0x55, 0x54, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]); // "UT", 5 bytes
    const bytes = rawZip([
      { name: 'first.txt', data: 'x'.repeat(100) },
      { name: 'big.txt', data: 'zip64 sizes', zip64: true, centralExtra: timestamp, localExtra: Buffer.alloc(17, 7) },
      { ...link('lib/current', 'first.txt'), zip64: true, localExtra: Buffer.alloc(5) },
    ]);
    const result = await inspectZip(await save(bytes));
    expect(result.entries.map((e) => [e.path, e.kind, e.size, e.compressedSize])).toEqual([
      ['first.txt', 'file', 100, 100],
      ['big.txt', 'file', 11, 11],
      ['lib/current', 'symlink', 9, 9],
    ]);
    expect(result.entries[2]?.linkTarget).toBe('first.txt');
  });

  it('refuses a zip64 extra field too short for the values the record leaves to it', async () => {
    const bytes = rawZip([{ name: 'a.txt', data: 'hi', zip64: true }]);
    const short = bytes.indexOf(Buffer.from([0x01, 0x00, 0x18, 0x00])); // zip64 field, 24 bytes
    bytes.writeUInt16LE(16, short + 2); // now holds size and compressed size, not the offset
    bytes.writeUInt16LE(0x9999, short + 4 + 16); // what follows is another (unknown) field
    bytes.writeUInt16LE(4, short + 4 + 18);
    const error = await failure(inspectZip(await save(bytes)));
    expect(error.code).toBe('invalid-zip');
    expect(error.details).toMatchObject({ entry: 'a.txt', index: 0 });
  });

  it('refuses a symlink whose target does not match its CRC-32 with package-corrupt', async () => {
    const bytes = rawZip([{ name: 'target-v1/' }, link('current', 'target-v1')]);
    const at = bytes.indexOf('target-v1', bytes.indexOf('current'));
    bytes[at + 7] = 'v'.charCodeAt(0) + 1; // target-w1: still a safe target, not the bytes the CRC was made of
    const error = await failure(inspectZip(await save(bytes)));
    expect(error.code).toBe('package-corrupt');
    expect(error.details).toMatchObject({ entry: 'current' });
  });

  it('refuses an end record claiming too many entries before listing them', async () => {
    const bytes = rawZip(Array.from({ length: 3 }, (_, i): RawEntry => ({ name: `f${i}` })));
    bytes.writeUInt32LE(0x13881388, bytes.lastIndexOf(Buffer.from('PK\x05\x06')) + 8); // 5000 entries
    const error = await failure(inspectZip(await save(bytes), { ...DEFAULT_ZIP_LIMITS, maxEntries: 100 }));
    expect(error.code).toBe('zip-limits-exceeded');
    expect(error.details).toMatchObject({ limit: 'maxEntries', value: 5000, max: 100 });
  });

  it('refuses a central directory over min(64 MiB, maxEntries * 1 KiB) before reading it', async () => {
    expect(centralDirectoryBudget(DEFAULT_ZIP_LIMITS)).toBe(64 * 2 ** 20);
    expect(centralDirectoryBudget({ ...DEFAULT_ZIP_LIMITS, maxEntries: 10 })).toBe(10_240);
    const name = Array.from({ length: 10 }, () => 'n'.repeat(200)).join('/'); // 2009 bytes
    const path = await save(rawZip([{ name, data: 'x' }]));
    const error = await failure(inspectZip(path, { ...DEFAULT_ZIP_LIMITS, maxEntries: 1 }));
    expect(error.code).toBe('zip-limits-exceeded');
    expect(error.details).toEqual({ limit: 'centralDirectorySize', value: 46 + 2009, max: 1024 });
    expect((await inspectZip(path, { ...DEFAULT_ZIP_LIMITS, maxEntries: 3 })).fileCount).toBe(1);
  });

  it('refuses central directory records that run past the announced directory size', async () => {
    const names = ['a'.repeat(100), 'b'.repeat(100), 'c'.repeat(100)];
    const bytes = rawZip(names.map((name): RawEntry => ({ name, data: 'x' })));
    const end = bytes.lastIndexOf(Buffer.from('PK\x05\x06'));
    expect(bytes.readUInt32LE(end + 12)).toBe(3 * 146);
    bytes.writeUInt32LE(3 * 46, end + 12); // claims a tiny directory: the three records do not fit in it
    const error = await failure(inspectZip(await save(bytes)));
    expect(error.code).toBe('invalid-zip');
    expect(error.details).toMatchObject({ directorySize: 3 * 46 });
  });

  it('refuses forged sizes: a huge ratio and a huge total', async () => {
    const bomb = rawZip([{ name: 'bomb', data: 'x'.repeat(1000), method: 8, size: 300 * 2 ** 20 }]);
    const ratio = await failure(inspectZip(await save(bomb)));
    expect(ratio.code).toBe('zip-limits-exceeded');
    expect(ratio.details).toMatchObject({ entry: 'bomb', limit: 'maxCompressionRatio' });

    const huge = Array.from({ length: 9 }, (_, i): RawEntry => ({ name: `f${i}`, data: 'x', method: 8, size: 0xfffffffe }));
    const total = await failure(inspectZip(await save(rawZip(huge)), { ...DEFAULT_ZIP_LIMITS, maxCompressionRatio: Infinity }));
    expect(total.code).toBe('zip-limits-exceeded');
    expect(total.details).toMatchObject({ entry: 'f8', limit: 'maxUnpackedSize', max: DEFAULT_ZIP_LIMITS.maxUnpackedSize });
  });
});

describe('inspectZip on files that are not (whole) zips', () => {
  let good = Buffer.alloc(0);
  beforeAll(async () => {
    good = await readFile(await archive((zip) => {
      zip.append(Buffer.alloc(20_000, 'a'), { name: 'big.txt', store: true } as archiver.ZipEntryData);
      zip.append('tail', { name: 'z.txt' });
    }));
    expect((await inspectZip(await save(good))).fileCount).toBe(2);
  });

  const patched = (bytes: Buffer, at: (b: Buffer) => number, value: number, width: 2 | 4 = 4): Buffer => {
    const copy = Buffer.from(bytes);
    copy.writeUIntLE(value, at(copy), width);
    return copy;
  };
  const endRecord = (b: Buffer): number => b.lastIndexOf(Buffer.from('PK\x05\x06'));
  const one = rawZip([{ name: 'a.txt', data: 'hello' }]);

  // the detail names which check caught it
  it.each<[string, () => Buffer, string | null]>([
    ['an empty file', () => Buffer.alloc(0), 'size'],
    ['a text file', () => Buffer.from('hello, I am not a zip\n'.repeat(10)), null],
    ['a lone local header', () => one.subarray(0, 30 + 5 + 5), null],
    ['a zip missing its last byte', () => good.subarray(0, good.length - 1), null],
    ['a zip missing its end record', () => good.subarray(0, good.length - 22), null],
    ['a zip missing its last 100 bytes', () => good.subarray(0, good.length - 100), null],
    ['a zip cut in the middle', () => Buffer.concat([good.subarray(0, 5000), good.subarray(6000)]), 'directorySize'],
    ['trailing bytes after the end record', () => Buffer.concat([one, Buffer.from('junk')]), null],
    ['two end record signatures at the end', () => rawZip([{ name: 'a', data: 'x' }, { name: 'bPK\x05\x06' }]), null],
    ['a zip spanning disks', () => patched(one, (b) => endRecord(b) + 4, 1, 2), null],
    ['a zip64 end record without locator', () => patched(one, (b) => endRecord(b) + 8, 0xffffffff), null],
    ['an end record claiming more entries', () => patched(one, (b) => endRecord(b) + 8, 0x03e803e8), 'directorySize'],
    ['an end record whose directory lies beyond it', () => patched(one, (b) => endRecord(b) + 16, 1000), 'directorySize'],
    ['a central directory record with a bad signature', () => patched(one, (b) => b.indexOf(Buffer.from('PK\x01\x02')), 0x12345678), 'index'],
    ['a zip64 size without zip64 field', () => rawZip([{ name: 'a', data: 'hi', size: 0xffffffff, compressedSize: 0xffffffff }]), 'index'],
    ['an entry whose data runs past the directory', () => rawZip([{ name: 'a', data: 'hi', size: 5000, compressedSize: 5000 }]), 'offset'],
    ['stored sizes that disagree', () => rawZip([{ name: 'a', data: 'hi', size: 10 }]), 'size'],
    ['data with a compressed size of 0', () => rawZip([{ name: 'a', data: 'hello', method: 8, compressedSize: 0 }]), 'size'],
    ['a symlink target shorter than announced', () => rawZip([{ ...link('l', 'v1'), method: 8, size: 5 }]), 'size'],
    ['a symlink target longer than announced', () => rawZip([{ ...link('l', 'v1'), method: 8, size: 1 }]), 'size'],
  ])('refuses %s as invalid-zip', async (_title, bytes, detail) => {
    const error = await failure(inspectZip(await save(bytes())));
    expect(error.code).toBe('invalid-zip');
    expect(error.message).toMatch(/zip/);
    if (detail !== null) expect(error.details).toHaveProperty(detail);
  });

  it('refuses a missing file as invalid-zip', async () => {
    const error = await failure(inspectZip(join(dir, 'nothing-here.zip')));
    expect(error.code).toBe('invalid-zip');
    expect(error.details).toHaveProperty('cause');
  });
});
