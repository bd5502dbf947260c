import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { CuttleError, EXIT, OverwriteModeSchema, errorCodeOf, parsePackageFileName, type OverwriteMode, type PackageName } from '@cuttle/shared';
import { CliError, describeError } from '../cli-error.js';
import { examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import type { UploadResult } from '../hub-client.js';
import { errorDocument, formatBytes, printJson, printLine, shortSha } from '../output.js';
import { createProgressReporter } from '../push/progress.js';

export interface PushOptions {
  files: readonly string[];
  overwriteMode?: string;
}

interface PlannedFile {
  /** As given on the command line (what events and messages name). */
  file: string;
  absPath: string;
  fileName: string;
  name: PackageName;
  size: number;
}

export function parseOverwriteMode(text: string | undefined): OverwriteMode {
  const parsed = OverwriteModeSchema.safeParse(text ?? 'FailIfExists');
  if (!parsed.success) {
    throw new CuttleError('invalid-overwrite-mode', `--overwrite-mode "${text}" is not one of ${OverwriteModeSchema.options.join(', ')}.`, {
      overwriteMode: text,
    });
  }
  return parsed.data;
}

/** Everything that can be checked without the hub, for every file, before anything is sent. */
async function planFile(file: string, cwd: string): Promise<PlannedFile> {
  const fileName = path.basename(file);
  const name = parsePackageFileName(fileName);
  const absPath = path.resolve(cwd, file);
  let size: number;
  try {
    const stats = await stat(absPath);
    if (!stats.isFile()) throw new CliError('invalid-path', `${file} is not a file`, { exitCode: EXIT.usage, details: { path: file } });
    size = stats.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const missing = errorCodeOf(error) === 'ENOENT';
    throw new CliError(missing ? 'file-not-found' : 'invalid-path', missing ? `${file} does not exist` : `${file} cannot be read: ${String(error)}`, {
      exitCode: EXIT.usage,
      details: { path: file },
    });
  }
  if (size === 0) throw new CuttleError('empty-package', `${file} is empty; a package is a zip file.`, { path: file });
  return { file, absPath, fileName, name, size };
}

function reportPushed(ctx: CommandContext, planned: PlannedFile, result: UploadResult): void {
  const pkg = result.package;
  if (ctx.json) {
    printJson(ctx.io, { event: 'pushed', file: planned.file, package: pkg, created: result.created, localSha256: result.localSha256 });
    return;
  }
  if (result.created) {
    printLine(ctx.io, `pushed ${pkg.id} ${pkg.version} (${formatBytes(pkg.size)}, sha256 ${shortSha(pkg.sha256)}…)`);
    return;
  }
  printLine(ctx.io, `${pkg.id} ${pkg.version} already existed on the hub; kept it (${formatBytes(pkg.size)}, sha256 ${shortSha(pkg.sha256)}…)`);
  if (pkg.sha256 !== result.localSha256) {
    ctx.io.stderr.write(
      `warning: the hub's ${pkg.id} ${pkg.version} differs from ${planned.file} (sha256 ${shortSha(pkg.sha256)}… there, ${shortSha(result.localSha256)}… here)\n`,
    );
  }
}

/**
 * Streams each package to the hub, one after another, and stops at the first failure
 * (its error is thrown for `main` to report and turn into the exit code).
 */
export async function runPush(ctx: CommandContext, options: PushOptions): Promise<void> {
  const overwriteMode = parseOverwriteMode(options.overwriteMode);
  if (options.files.length === 0) throw new CliError('usage', 'name at least one package file to push', { exitCode: EXIT.usage });
  const planned: PlannedFile[] = [];
  for (const file of options.files) planned.push(await planFile(file, ctx.io.cwd));

  const hub = ctx.hub();
  for (const item of planned) {
    const progress = createProgressReporter(ctx, item.file, item.size);
    let result: UploadResult;
    try {
      result = await hub.uploadPackage({
        filePath: item.absPath,
        fileName: item.fileName,
        size: item.size,
        overwriteMode,
        onProgress: (sent) => progress.update(sent),
      });
    } catch (error) {
      progress.end();
      if (ctx.json) printJson(ctx.io, { event: 'failed', file: item.file, ...errorDocument(describeError(error)) });
      throw error;
    }
    progress.end();
    reportPushed(ctx, item, result);
  }
}

interface PushFlags {
  overwriteMode?: string;
}

export const pushCommand: CommandDefinition = {
  name: 'push',
  register(parent, invoke) {
    parent
      .command('push')
      .summary('upload package files to the hub')
      .description(
        'Upload package files (<PackageId>.<SemVer>.zip) to the hub, streamed, one after another. ' +
          'Every file name is checked before anything is sent; the first failure stops the push. ' +
          'The SHA-256 computed while sending must match the one the hub reports.\n\n' +
          'Progress goes to stderr: a bar on a terminal, a line at 25, 50, 75 and 100% otherwise. ' +
          'With --json, stdout gets one event per line: {"event":"progress",...}, {"event":"pushed",...} or {"event":"failed",...}.',
      )
      .argument('<file...>', 'package files to push')
      .option('--overwrite-mode <mode>', 'FailIfExists (default: fail when the version exists), OverwriteExisting, or IgnoreIfExists (keep the existing one)')
      .addHelpText(
        'after',
        examples(
          'CUTTLE_API_KEY=... cuttle push Acme.Web.1.4.0.zip --hub http://hub:8080',
          'cuttle push out/*.zip --overwrite-mode IgnoreIfExists',
          'cuttle push Acme.Web.1.4.0.zip --json   # {"event":"progress",...} lines, then {"event":"pushed",...}',
        ),
      )
      .action((files: string[], _flags: PushFlags, command: Command) =>
        invoke(command, (ctx) => runPush(ctx, { files, overwriteMode: command.opts<PushFlags>().overwriteMode })),
      );
  },
};
