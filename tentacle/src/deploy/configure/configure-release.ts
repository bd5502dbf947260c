import { lstat, readFile, rename, rm } from 'node:fs/promises';
import type { DeployPackageJob } from '@cuttle/shared';
import { asJobFailure, JobFailure } from '../job-failure.js';
import type { JobRuntime } from '../job-runtime.js';
import { deepMergeIntoYaml } from './deep-merge.js';
import { readTextFile, writeReleaseFile } from './file-text.js';
import { mergeJsonText } from './json-merge.js';
import { listReleaseFiles, matchFiles, releasePath } from './release-files.js';
import { replaceInJson, replaceInYaml, type KeyPathVariable } from './structured-replace.js';
import { substituteText } from './substitute.js';
import { findTransformFiles, sameEnvironment, transformKind, type TransformFile } from './transform-files.js';
import { formatYamlDocuments, parseSingleYamlFile, parseYamlFile, yamlToJs } from './yaml-text.js';

export interface ConfigureOptions {
  /** files larger than this are not substituted, merged or replaced into */
  maxFileBytes: number;
  /**
   * The release's files, sorted, when they are known to be exactly what extraction wrote (no
   * script has run since); otherwise the release folder is walked to find them.
   */
  knownFiles?: readonly string[];
}

/**
 * Applies the job's configuration to a freshly extracted release, before Deploy.sh: substitution of
 * `#{Name}` in the files `substituteIn` matches, then the environment transform files (merged into
 * or replacing their base, and those of every environment removed), then structured replacement in
 * the JSON and YAML files `structuredVariables` matches. Logs what it did by file, never a value.
 * Reports phase `configure` only when there is something to do. Any failure is `configuration-failed`
 * (or `disk-full`) naming the file.
 */
export async function configureRelease(rt: JobRuntime, job: DeployPackageJob, releaseDir: string, options: ConfigureOptions): Promise<void> {
  const substituteIn = job.substituteIn ?? [];
  const structured = job.structuredVariables ?? [];
  const environments = [...new Set([...(job.environments ?? []), job.environment])];
  let files: readonly string[];
  try {
    files = options.knownFiles === undefined ? await listReleaseFiles(releaseDir) : options.knownFiles;
  } catch (error) {
    throw asJobFailure(error, 'configuration-failed');
  }
  const transforms = findTransformFiles(files, environments);
  if (substituteIn.length === 0 && structured.length === 0 && transforms.length === 0) return;
  rt.phase('configure');

  const variables = job.variables ?? [];
  const values = new Map(variables.map((v) => [v.name, v.value]));
  const ctx: Context = { rt, root: releaseDir, options };
  // transform files of other environments are about to go: they are not substituted
  const otherTransforms = new Set(transforms.filter((t) => !sameEnvironment(t.environment, job.environment)).map((t) => t.file));
  for (const file of matchFiles(files, substituteIn, 'substituteIn')) {
    if (!otherTransforms.has(file)) await step(rt.signal, file, () => substituteFile(ctx, file, values));
  }

  for (const transform of transforms.filter((t) => sameEnvironment(t.environment, job.environment))) {
    await step(rt.signal, transform.file, () => applyTransform(ctx, transform));
  }
  for (const transform of transforms) {
    await step(rt.signal, transform.file, async () => {
      await rm(releasePath(releaseDir, transform.file), { force: true });
      rt.log.info(`removed ${transform.file}`);
    });
  }
  const removed = new Set(transforms.map((t) => t.file));
  const remaining = files.filter((file) => !removed.has(file));

  for (const file of matchFiles(remaining, structured, 'structuredVariables')) {
    await step(rt.signal, file, () => replaceStructured(ctx, file, variables));
  }
}

interface Context {
  rt: JobRuntime;
  root: string;
  options: ConfigureOptions;
}

/**
 * Runs one file's part, unless the job was aborted; an unexpected error (permissions, I/O) fails
 * the job naming the file.
 */
async function step(signal: AbortSignal, file: string, run: () => Promise<void>): Promise<void> {
  signal.throwIfAborted();
  try {
    await run();
  } catch (error) {
    if (error instanceof JobFailure) throw error;
    const failure = asJobFailure(error, 'configuration-failed');
    throw new JobFailure(failure.code, `${file}: ${failure.message}`, { cause: error });
  }
}

async function substituteFile(ctx: Context, file: string, values: ReadonlyMap<string, string>): Promise<void> {
  const absolute = releasePath(ctx.root, file);
  const read = await readTextFile(absolute, ctx.options.maxFileBytes);
  if (!read.ok) {
    ctx.rt.log.warn(`${file}: skipped, ${read.problem}; nothing substituted`);
    return;
  }
  const result = substituteText(read.file.text, values);
  for (const name of result.unknown) ctx.rt.log.warn(`${file}: #{${name}} has no value; left as is`);
  if (result.replaced.size === 0 && result.escapes === 0) return;
  await writeReleaseFile(absolute, result.text, read.file);
  const names = [...result.replaced].map(([name, count]) => (count === 1 ? name : `${name} (${count}×)`));
  const total = [...result.replaced.values()].reduce((sum, n) => sum + n, 0);
  const parts = [`substituted ${total === 0 ? 'nothing' : `${total} value${total === 1 ? '' : 's'}: ${names.join(', ')}`}`];
  if (result.escapes > 0) parts.push(`${result.escapes} ##{...} escape${result.escapes === 1 ? '' : 's'} written as #{...}`);
  ctx.rt.log.info(`${file}: ${parts.join('; ')}`);
}

async function readConfigText(ctx: Context, file: string): Promise<{ text: string; bom: boolean; mode: number }> {
  const read = await readTextFile(releasePath(ctx.root, file), ctx.options.maxFileBytes);
  if (!read.ok) throw new JobFailure('configuration-failed', `${file} cannot be used as configuration: ${read.problem}`);
  return read.file;
}

async function applyTransform(ctx: Context, transform: TransformFile): Promise<void> {
  const { file, base } = transform;
  const kind = transformKind(file);
  if (kind === 'replace') {
    const source = releasePath(ctx.root, file);
    const stats = await lstat(source);
    // the environment's file takes the base's place whole, its permission bits included: a regular
    // file is moved there (atomic, whatever its size); anything else is copied through
    if (stats.isFile()) await rename(source, releasePath(ctx.root, base));
    else await writeReleaseFile(releasePath(ctx.root, base), await readFile(source), { mode: stats.mode & 0o7777 });
    ctx.rt.log.info(`${base}: replaced by ${file}`);
    return;
  }
  const baseText = await readConfigText(ctx, base);
  const overText = await readConfigText(ctx, file);
  let merged: string;
  if (kind === 'json') {
    merged = mergeJsonText(baseText.text, overText.text, base, file);
  } else {
    const baseDoc = parseSingleYamlFile(baseText.text, base);
    const overDoc = parseSingleYamlFile(overText.text, file);
    // an empty transform file (or one with only comments) changes nothing
    if (overDoc.contents !== null) deepMergeIntoYaml(baseDoc, yamlToJs(overDoc, file));
    merged = formatYamlDocuments([baseDoc]);
  }
  await writeReleaseFile(releasePath(ctx.root, base), merged, baseText);
  ctx.rt.log.info(`${base}: merged ${file} into it`);
}

async function replaceStructured(ctx: Context, file: string, variables: readonly KeyPathVariable[]): Promise<void> {
  const kind = transformKind(file);
  if (kind === 'replace') {
    ctx.rt.log.warn(`${file}: skipped, structured replacement applies to .json, .yaml and .yml files only`);
    return;
  }
  const read = await readConfigText(ctx, file);
  let set: string[];
  let skipped: string[];
  let text: string;
  if (kind === 'json') {
    ({ set, skipped, text } = replaceInJson(read.text, variables, file));
  } else {
    const documents = parseYamlFile(read.text, file);
    set = [];
    skipped = [];
    for (const doc of documents) {
      const result = replaceInYaml(doc, variables, file);
      set.push(...result.set.filter((name) => !set.includes(name)));
      skipped.push(...result.skipped);
    }
    text = formatYamlDocuments(documents);
  }
  for (const why of skipped) ctx.rt.log.warn(`${file}: ${why}; not set`);
  if (set.length === 0) {
    ctx.rt.log.info(`${file}: no variable matches a key in it`);
    return;
  }
  await writeReleaseFile(releasePath(ctx.root, file), text, read);
  ctx.rt.log.info(`${file}: set ${set.join(', ')}`);
}
