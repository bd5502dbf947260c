import { mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { EXIT, assertValidPackageId, assertValidVersion, errorCodeOf, packageFileName } from '@cuttle/shared';
import { CliError } from '../cli-error.js';
import { collect, examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { formatBytes, printJson, printLine } from '../output.js';
import { collectEntries } from '../pack/walk-tree.js';
import { exists, outputExists, writePackageZip } from '../pack/write-zip.js';

export interface PackOptions {
  dir: string;
  id: string;
  version: string;
  /** Output folder, default the current folder; created when missing. */
  out?: string;
  exclude?: readonly string[];
  overwrite?: boolean;
}

export interface PackResult {
  file: string;
  id: string;
  version: string;
  size: number;
  sha256: string;
  entries: number;
}

function pathError(code: 'file-not-found' | 'invalid-path', message: string, file: string): CliError {
  return new CliError(code, message, { exitCode: EXIT.usage, details: { path: file } });
}

/** The folder to pack, resolved to its real path (the walk never leaves it). */
async function packRoot(dir: string): Promise<string> {
  try {
    const root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw pathError('invalid-path', `${dir} is not a folder`, dir);
    return root;
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (errorCodeOf(error) === 'ENOENT') throw pathError('file-not-found', `${dir} does not exist`, dir);
    throw pathError('invalid-path', `${dir} cannot be read: ${error instanceof Error ? error.message : String(error)}`, dir);
  }
}

async function realpathOrUndefined(dir: string): Promise<string | undefined> {
  try {
    return await realpath(dir);
  } catch {
    return undefined;
  }
}

/**
 * Zips `<dir>` as `<out>/<PackageId>.<SemVer>.zip`: entries sorted by path, folders kept,
 * modes kept (& 0755), inside symlinks kept as symlinks, compressed formats stored.
 */
export async function runPack(ctx: CommandContext, options: PackOptions): Promise<PackResult> {
  assertValidPackageId(options.id);
  assertValidVersion(options.version);
  const fileName = packageFileName({ id: options.id, version: options.version });
  const root = await packRoot(path.resolve(ctx.io.cwd, options.dir));
  const outDir = path.resolve(ctx.io.cwd, options.out ?? '.');
  const shownPath = path.join(outDir, fileName);
  const overwrite = options.overwrite === true;

  const realOutDir = await realpathOrUndefined(outDir);
  if (realOutDir !== undefined && !(await stat(realOutDir)).isDirectory()) throw pathError('invalid-path', `--out ${outDir} is not a folder`, outDir);
  const existingOut = realOutDir === undefined ? undefined : path.join(realOutDir, fileName);
  if (existingOut !== undefined && (await exists(existingOut))) {
    if (!overwrite) throw outputExists(shownPath);
    if ((await stat(existingOut)).isDirectory()) throw pathError('invalid-path', `${shownPath} is a folder`, shownPath);
  }

  // Walk before creating anything, so a new --out folder or our temporary file never end up inside.
  const entries = await collectEntries({ root, exclude: options.exclude ?? [], skip: new Set(existingOut === undefined ? [] : [existingOut]) });

  try {
    await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw new CliError('pack-failed', `cannot create the output folder ${outDir}: ${error instanceof Error ? error.message : String(error)}`, {
      exitCode: EXIT.failed,
      details: { path: outDir },
    });
  }
  const written = await writePackageZip(entries, path.join(await realpath(outDir), fileName), {
    overwrite,
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  });
  const result: PackResult = { file: shownPath, id: options.id, version: options.version, size: written.size, sha256: written.sha256, entries: written.entries };
  if (ctx.json) printJson(ctx.io, result);
  else printLine(ctx.io, `wrote ${shownPath} (${formatBytes(result.size)}, ${result.entries} ${result.entries === 1 ? "entry" : "entries"}, sha256 ${result.sha256})`);
  return result;
}

interface PackFlags {
  id: string;
  version: string;
  out?: string;
  exclude?: string[];
  overwrite?: boolean;
}

export const packCommand: CommandDefinition = {
  name: 'pack',
  register(parent, invoke) {
    parent
      .command('pack')
      .summary('zip a folder as <PackageId>.<SemVer>.zip')
      .description(
        'Zip a folder as a package named <PackageId>.<SemVer>.zip, ready for `cuttle push`.\n\n' +
          'Entries are sorted by path. Folders (empty ones too), file modes (& 0755, so deploy.sh stays executable) and symlinks whose target stays inside the folder are kept; a symlink pointing outside is an error. ' +
          'Formats that are compressed already (zip, gz, jpg, png, woff2, jar, nupkg, ...) are stored, the rest deflated.',
      )
      .argument('<dir>', 'the folder to pack')
      .requiredOption('--id <PackageId>', 'package id: letters, digits, ".", "-", "_"')
      .requiredOption('--version <SemVer>', 'SemVer 2 version, for example 1.4.0 or 2.0.0-beta.3')
      .option('--out <dir>', 'folder to write the zip to (default: the current folder)')
      .option('--exclude <glob>', 'leave out paths matching this glob, relative to <dir> (repeatable; an excluded folder excludes its content)', collect)
      .option('--overwrite', 'replace the zip if it exists already')
      .addHelpText(
        'after',
        examples(
          'cuttle pack ./publish --id Acme.Web --version 1.4.0',
          'cuttle pack . --id payments-api --version 2.0.0-beta.3 --out ../artifacts --exclude "**/*.log" --exclude .git',
          'cuttle pack ./publish --id Acme.Web --version "$VERSION" --json',
        ) + '\nGlobs are picomatch globs on the relative path with "/" separators: "*.log" matches only at\nthe top, "**/*.log" everywhere.\n',
      )
      .action((dir: string, _flags: PackFlags, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<PackFlags>();
          await runPack(ctx, { dir, id: flags.id, version: flags.version, out: flags.out, exclude: flags.exclude, overwrite: flags.overwrite });
        }),
      );
  },
};
