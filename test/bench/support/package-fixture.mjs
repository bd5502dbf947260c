// A package of a chosen size for the benchmarks: a few large files of random (incompressible)
// bytes plus a few small text files, zipped with the real `cuttle pack`.
import { randomFill } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CLI_BIN, CLI_BUNDLE, spawnNode } from './processes.mjs';

/** Random bytes are generated and written in chunks of this size (never the whole file in memory). */
export const WRITE_CHUNK_BYTES = 4 * 1024 * 1024;
/** The payload is split over this many large files. */
export const LARGE_FILE_COUNT = 4;

const SMALL_FILES = {
  'README.txt': 'Cuttle upload benchmark package: random payload, not meant to be deployed.\n',
  'deploy.sh': '#!/bin/sh\nset -eu\necho "benchmark package: nothing to deploy"\n',
  'config/appsettings.json': `${JSON.stringify({ Logging: { Level: 'Warning' }, ConnectionStrings: { Main: '#{Db.Connection}' } }, null, 2)}\n`,
  'wwwroot/index.html': '<!doctype html>\n<title>bench</title>\n<p>benchmark</p>\n',
};

/**
 * Writes the package tree: `payloadBytes` of random data over LARGE_FILE_COUNT files, plus small files.
 * @param {string} dir  created; must not exist yet
 * @param {number} payloadBytes
 */
export async function writePackageTree(dir, payloadBytes) {
  await mkdir(path.join(dir, 'assets'), { recursive: true });
  const count = Math.max(1, Math.min(LARGE_FILE_COUNT, Math.floor(payloadBytes / WRITE_CHUNK_BYTES)));
  const each = Math.floor(payloadBytes / count);
  for (let index = 0; index < count; index += 1) {
    const size = index === count - 1 ? payloadBytes - each * (count - 1) : each;
    await writeRandomFile(path.join(dir, 'assets', `blob-${index + 1}.bin`), size);
  }
  for (const [name, text] of Object.entries(SMALL_FILES)) {
    await mkdir(path.join(dir, path.dirname(name)), { recursive: true });
    await writeFile(path.join(dir, name), text, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
  }
}

/** @param {string} file @param {number} size */
async function writeRandomFile(file, size) {
  const handle = await open(file, 'wx');
  const chunk = Buffer.allocUnsafe(Math.min(WRITE_CHUNK_BYTES, size));
  try {
    for (let written = 0; written < size; ) {
      const length = Math.min(chunk.length, size - written);
      await new Promise((resolve, reject) => randomFill(chunk, 0, length, (error) => (error ? reject(error) : resolve(undefined))));
      const { bytesWritten } = await handle.write(chunk, 0, length);
      written += bytesWritten;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Zips `dir` with `cuttle pack` into `outDir` and returns the zip's path.
 * @param {import('./processes.mjs').Scope} scope
 * @param {string} dir
 * @param {string} outDir
 * @param {{ id: string, version: string }} name
 */
export async function packWithCli(scope, dir, outDir, { id, version }) {
  if (!existsSync(CLI_BUNDLE)) throw new Error(`the CLI is not built (${CLI_BUNDLE} is missing): run \`npm run build\` first`);
  await mkdir(outDir, { recursive: true });
  const pack = spawnNode(scope, [CLI_BIN, 'pack', dir, '--id', id, '--version', version, '--out', outDir, '--json']);
  const { code, signal } = await pack.exited;
  if (code !== 0) {
    throw new Error(`\`cuttle pack\` failed (${signal ?? `exit ${code}`}); is the CLI's pack command finished? stderr:\n${pack.stderr()}`);
  }
  const zip = await findZip(outDir, `${id}.${version}.zip`, pack.stdoutLines);
  if (zip === undefined) {
    throw new Error(`\`cuttle pack\` exited 0 but no zip was found in ${outDir}; is the CLI's pack command finished? stdout:\n${pack.stdoutLines.join('\n')}`);
  }
  return zip;
}

/**
 * The expected file in outDir, else a `path` or `file` from the --json output, else the only zip in outDir.
 * @param {string} outDir @param {string} expectedName @param {string[]} stdoutLines
 * @returns {Promise<string | undefined>}
 */
async function findZip(outDir, expectedName, stdoutLines) {
  const expected = path.join(outDir, expectedName);
  if (await isFile(expected)) return expected;
  for (const line of stdoutLines) {
    try {
      const parsed = JSON.parse(line);
      const reported = parsed?.path ?? parsed?.file;
      if (typeof reported === 'string' && (await isFile(path.resolve(reported)))) return path.resolve(reported);
    } catch {
      /* not a JSON line */
    }
  }
  const zips = (await readdir(outDir)).filter((name) => name.endsWith('.zip'));
  return zips.length === 1 ? path.join(outDir, zips[0]) : undefined;
}

/** @param {string} file */
async function isFile(file) {
  return (await stat(file).catch(() => undefined))?.isFile() === true;
}
