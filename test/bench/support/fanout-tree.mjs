// The fanout benchmark's package tree: what a real web application's build output looks like,
// built deterministically from a seed so that runs compare. Many small source and text files
// (compress well), some medium files (half text, half already-compressed media), a few large
// incompressible binaries, in nested folders, plus a Deploy.sh that writes a marker file.
import { mkdir, open, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createByteStream, createRandom } from './seeded-random.mjs';

export const TREE_SEED = 0x0c077e1e;
/** Deploy.sh writes the release name into this file in the release folder. */
export const DEPLOY_MARKER = 'deployed.marker';
/** Shares of the payload: small text files, medium files, large binaries (the rest). */
export const SHARES = { small: 0.25, medium: 0.35 };
/** Every file and folder gets this modification time, so that the zip is the same bytes each run. */
const FIXED_MTIME = new Date('2024-01-01T00:00:00Z');
const WRITE_CONCURRENCY = 16;
const CHUNK_BYTES = 4 * 1024 * 1024;
const SMALL_PER_FOLDER = 40;

const DEPLOY_SCRIPT = `#!/bin/bash
# Fanout benchmark: a trivial deploy step, so that the timing is the transfer and the install.
set -euo pipefail
printf '%s\\n' "\${CUTTLE_RELEASE:-unknown}" > ${DEPLOY_MARKER}
echo "Deploy.sh: \${CUTTLE_PACKAGE_ID:-?} \${CUTTLE_PACKAGE_VERSION:-?} installed in $(pwd)"
`;

const WORDS = (
  'account address admin alert api app asset audit auth batch billing block buffer build cache cart catalog channel chart check ' +
  'client cluster config connect context cookie core count customer dashboard data debug default delete deploy detail device ' +
  'dialog document domain driver email engine entity error event export field filter format gateway graph group handler header ' +
  'health helper history host image import index input invoice item job key label layout limit list load locale lock log login ' +
  'manager map media menu message meta metric model module monitor node notice number order owner page panel parser payment ' +
  'plugin policy pool port price profile provider proxy query queue rate reader record region report request resource response ' +
  'result role route rule schema scope search secret section service session setting shard shipping signal source state status ' +
  'storage store stream style summary sync table tag task template tenant theme timer token topic trace user util value view ' +
  'widget worker writer zone'
).split(' ');
const TOP_FOLDERS = ['src', 'lib', 'wwwroot', 'views', 'locales', 'docs', 'config', 'migrations'];
const SMALL_EXTENSIONS = ['js', 'js', 'js', 'ts', 'css', 'html', 'json', 'md', 'txt', 'sql', 'yml', 'map'];
const MEDIUM_TEXT_EXTENSIONS = ['js', 'json', 'map', 'css'];
const MEDIUM_MEDIA_EXTENSIONS = ['png', 'jpg', 'woff2'];
const LARGE_NAMES = ['bin/engine-#.so', 'assets/media/intro-#.mp4', 'data/geo-#.dat', 'bin/runtime-#.bin'];

/**
 * @typedef {object} TreeSummary
 * @property {number} files  regular files, Deploy.sh included
 * @property {number} bytes  their total size
 * @property {Record<'small' | 'medium' | 'large', { files: number, bytes: number }>} kinds
 */

/**
 * Plans the tree for `payloadBytes` in about `fileCount` files; pure (same input, same plan).
 * @param {number} payloadBytes @param {number} fileCount
 * @returns {Array<{ name: string, size: number, kind: 'small' | 'medium' | 'large' | 'script', content: 'text' | 'random' | 'script' }>}
 */
export function planTree(payloadBytes, fileCount) {
  const random = createRandom(TREE_SEED);
  const large = Math.min(8, Math.max(1, Math.round(fileCount / 2000)));
  const medium = Math.max(1, Math.round(fileCount * 0.02));
  const small = Math.max(1, fileCount - large - medium - 1); // 1: Deploy.sh
  /** @type {ReturnType<typeof planTree>} */
  const plan = [{ name: 'Deploy.sh', size: Buffer.byteLength(DEPLOY_SCRIPT), kind: 'script', content: 'script' }];

  const folders = smallFolders(random, Math.ceil(small / SMALL_PER_FOLDER));
  const smallSizes = spread(random, Math.floor(payloadBytes * SHARES.small), small, 1.1, 32, 512 * 1024);
  smallSizes.forEach((size, index) => {
    const folder = folders[Math.floor(index / SMALL_PER_FOLDER)];
    plan.push({ name: `${folder}/${random.pick(WORDS)}-${random.pick(WORDS)}-${index + 1}.${random.pick(SMALL_EXTENSIONS)}`, size, kind: 'small', content: 'text' });
  });

  const mediumSizes = spread(random, Math.floor(payloadBytes * SHARES.medium), medium, 0.6, 1024, 16 * 1024 * 1024);
  mediumSizes.forEach((size, index) => {
    const media = index % 2 === 1;
    const extension = random.pick(media ? MEDIUM_MEDIA_EXTENSIONS : MEDIUM_TEXT_EXTENSIONS);
    const folder = media ? `wwwroot/assets/${random.pick(WORDS)}` : `wwwroot/bundles/${random.pick(WORDS)}`;
    plan.push({ name: `${folder}/${random.pick(WORDS)}.${index + 1}.${extension}`, size, kind: 'medium', content: media ? 'random' : 'text' });
  });

  const used = plan.reduce((sum, file) => sum + file.size, 0);
  const rest = Math.max(large, payloadBytes - used);
  const each = Math.floor(rest / large);
  for (let index = 0; index < large; index += 1) {
    const size = index === large - 1 ? rest - each * (large - 1) : each;
    const name = /** @type {string} */ (LARGE_NAMES[index % LARGE_NAMES.length]).replace('#', String(index + 1));
    plan.push({ name, size, kind: 'large', content: 'random' });
  }
  return plan;
}

/**
 * `count` sizes with a log-normal spread (sigma), clamped to [min, max], scaled to add up to about `budget`.
 * @param {import('./seeded-random.mjs').Random} random @param {number} budget @param {number} count
 * @param {number} sigma @param {number} min @param {number} max
 */
function spread(random, budget, count, sigma, min, max) {
  const raw = Array.from({ length: count }, () => random.logNormal(1, sigma));
  const total = raw.reduce((sum, value) => sum + value, 0);
  return raw.map((value) => Math.min(max, Math.max(min, Math.round((value / total) * budget))));
}

/** Distinct nested folders such as `src/billing/invoice` or `views/page/report/list`. @param {import('./seeded-random.mjs').Random} random @param {number} count */
function smallFolders(random, count) {
  const seen = new Set();
  /** @type {string[]} */
  const folders = [];
  while (folders.length < count) {
    const depth = random.int(1, 3);
    const parts = [random.pick(TOP_FOLDERS), ...Array.from({ length: depth }, () => random.pick(WORDS))];
    const folder = parts.join('/');
    if (seen.has(folder)) continue;
    seen.add(folder);
    folders.push(folder);
  }
  return folders;
}

/**
 * Writes the planned tree into `dir` (created; must not exist) and gives every entry a fixed time.
 * @param {string} dir @param {number} payloadBytes @param {number} fileCount
 * @returns {Promise<TreeSummary>}
 */
export async function writeFanoutTree(dir, payloadBytes, fileCount) {
  const plan = planTree(payloadBytes, fileCount);
  const folders = new Set(plan.map((file) => path.posix.dirname(file.name)).filter((folder) => folder !== '.'));
  await mkdir(dir, { recursive: false });
  for (const folder of folders) await mkdir(path.join(dir, folder), { recursive: true });

  let next = 0;
  const writeNext = async () => {
    while (next < plan.length) {
      const index = next++;
      const file = /** @type {(typeof plan)[number]} */ (plan[index]);
      const target = path.join(dir, file.name);
      if (file.content === 'script') await writeFile(target, DEPLOY_SCRIPT, { flag: 'wx', mode: 0o755 });
      else if (file.content === 'text') await writeFile(target, codeText(createRandom(TREE_SEED + index), file.size), { flag: 'wx', mode: 0o644 });
      else await writeRandomFile(target, file.size, `${TREE_SEED}:${file.name}`);
      await utimes(target, FIXED_MTIME, FIXED_MTIME);
    }
  };
  await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, writeNext));
  // deepest first: setting a folder's time must come after everything inside it is written
  const allFolders = new Set();
  for (const folder of folders) for (let f = folder; f !== '.'; f = path.posix.dirname(f)) allFolders.add(f);
  for (const folder of [...allFolders].sort((a, b) => b.split('/').length - a.split('/').length)) await utimes(path.join(dir, folder), FIXED_MTIME, FIXED_MTIME);

  /** @type {TreeSummary} */
  const summary = { files: plan.length, bytes: 0, kinds: { small: { files: 0, bytes: 0 }, medium: { files: 0, bytes: 0 }, large: { files: 0, bytes: 0 } } };
  for (const file of plan) {
    summary.bytes += file.size;
    const kind = file.kind === 'script' ? 'small' : file.kind;
    summary.kinds[kind].files += 1;
    summary.kinds[kind].bytes += file.size;
  }
  return summary;
}

/**
 * Source-like text of exactly `length` bytes (ASCII): identifiers, calls and comments from a
 * small vocabulary, which deflates about as well as real code does.
 * @param {import('./seeded-random.mjs').Random} random @param {number} length
 */
export function codeText(random, length) {
  /** @type {string[]} */
  const lines = [];
  let size = 0;
  const word = () => random.pick(WORDS);
  const name = () => `${word()}${word().replace(/^./, (c) => c.toUpperCase())}`;
  while (size < length) {
    let line;
    switch (random.int(0, 5)) {
      case 0:
        line = `export function ${name()}(${word()}, ${word()}) {`;
        break;
      case 1:
        line = `  const ${name()} = await ${word()}.${name()}(${word()}, ${random.int(0, 999)});`;
        break;
      case 2:
        line = `  if (${word()}.${word()} === '${word()}') return ${name()}(${word()});`;
        break;
      case 3:
        line = `  // ${word()} the ${word()} ${word()} before the ${word()} ${word()} is ${word()}ed`;
        break;
      case 4:
        line = `  "${word()}": { "${word()}": "${name()}", "${word()}": ${random.int(0, 99999)} },`;
        break;
      default:
        line = '}';
    }
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`.slice(0, length);
}

/** @param {string} file @param {number} size @param {string} label */
async function writeRandomFile(file, size, label) {
  const bytes = createByteStream(label);
  const handle = await open(file, 'wx', 0o644);
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(1, size)));
  try {
    for (let written = 0; written < size; ) {
      const length = Math.min(chunk.length, size - written);
      bytes.fill(chunk, length);
      const { bytesWritten } = await handle.write(chunk, 0, length);
      written += bytesWritten;
    }
  } finally {
    await handle.close();
  }
}
