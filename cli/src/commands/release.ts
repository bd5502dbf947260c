import type { Command } from 'commander';
import { CreateReleaseRequestSchema, EXIT, assertValidPackageId, isValidSemVer, type Release } from '@cuttle/shared';
import { CliError, invalidOption } from '../cli-error.js';
import { collect, examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { checkName, checkRequest } from '../local-validation.js';
import { formatTimestamp, printJson, printLine, renderTable } from '../output.js';
import { formatReleasePackages, notesSummary, renderRelease } from '../project-view.js';

/** A version given on the command line that is not SemVer 2: exit 2, like the shared check. */
function checkVersion(version: string, what: string): string {
  if (isValidSemVer(version)) return version;
  throw new CliError('invalid-version', `${what} "${version}" is not a valid SemVer 2 version (for example 1.4.0 or 2.0.0-beta.3).`, {
    exitCode: EXIT.usage,
    details: { version },
  });
}

/**
 * `--package Acme.Web:1.4.0` (or `Acme.Web@1.4.0`; repeatable, or comma-separated) as the
 * request's `packages` map. Neither a package id nor a SemVer version can hold ":" or "@",
 * so the first one splits. Ids and versions are checked locally; an id named twice is refused.
 */
export function parsePackagePins(values: readonly string[]): Record<string, string> {
  const pins: Record<string, string> = {};
  const seen = new Map<string, string>();
  for (const item of values.flatMap((value) => value.split(',')).map((value) => value.trim())) {
    if (item === '') continue;
    const at = item.search(/[:@]/);
    if (at === -1) throw invalidOption(`--package "${item}" needs a version: use <PackageId>:<version>, for example Acme.Web:1.4.0.`, { package: item });
    const id = item.slice(0, at).trim();
    const version = item.slice(at + 1).trim();
    assertValidPackageId(id);
    checkVersion(version, `--package ${id}: version`);
    const previous = seen.get(id.toLowerCase());
    if (previous !== undefined) throw invalidOption(`--package names ${previous} more than once; pin each package to one version.`, { package: id });
    seen.set(id.toLowerCase(), id);
    pins[id] = version;
  }
  return pins;
}

export interface CreateReleaseOptions {
  project: string;
  version?: string;
  /** `Id:Version` or `Id@Version` items, as given. */
  packages?: readonly string[];
  notes?: string;
}

/**
 * `POST /api/v1/projects/{name}/releases {version?, packages?, notes?}`: only what was given
 * is sent; the hub picks the next patch version and the newest version of unpinned packages.
 */
export async function runCreateRelease(ctx: CommandContext, options: CreateReleaseOptions): Promise<Release> {
  const project = checkName('project', options.project, '--project');
  const pins = parsePackagePins(options.packages ?? []);
  const body = checkRequest(
    CreateReleaseRequestSchema,
    {
      ...(options.version === undefined ? {} : { version: checkVersion(options.version, '--version') }),
      ...(Object.keys(pins).length === 0 ? {} : { packages: pins }),
      ...(options.notes === undefined ? {} : { notes: options.notes }),
    },
    `create a release of ${project}`,
  );
  const release = await ctx.hub().createRelease(project, body);
  if (ctx.json) printJson(ctx.io, release);
  else printLine(ctx.io, `created release ${release.project} ${release.version} (${formatReleasePackages(release.packages)})`);
  return release;
}

/** Newest first: a table (version, created, by, packages, notes), or the hub's `{"items":[...]}`. */
export async function runListReleases(ctx: CommandContext, projectName: string): Promise<Release[]> {
  const project = checkName('project', projectName, '--project');
  const items = await ctx.hub().listReleases(project);
  if (ctx.json) printJson(ctx.io, { items });
  else if (items.length === 0) printLine(ctx.io, `no releases of ${project}; create one with: cuttle release create --project ${project}`);
  else {
    const rows = items.map((release) => [
      release.version,
      formatTimestamp(release.createdAt),
      release.createdBy ?? '-',
      release.packages.length === 0 ? '-' : formatReleasePackages(release.packages),
      notesSummary(release.notes),
    ]);
    printLine(ctx.io, renderTable(['version', 'created', 'by', 'packages', 'notes'], rows));
  }
  return items;
}

export async function runShowRelease(ctx: CommandContext, projectName: string, version: string): Promise<Release> {
  const project = checkName('project', projectName, '--project');
  const release = await ctx.hub().getRelease(project, checkVersion(version, 'release version'));
  if (ctx.json) printJson(ctx.io, release);
  else printLine(ctx.io, renderRelease(release));
  return release;
}

/**
 * `POST .../releases/{version}/snapshot-variables`: the release takes the project's current
 * variables (and those of its variable sets), replacing the snapshot it took when created.
 */
export async function runSnapshotVariables(ctx: CommandContext, projectName: string, version: string): Promise<Release> {
  const project = checkName('project', projectName, '--project');
  const release = await ctx.hub().variables.snapshotVariables(project, checkVersion(version, '--version'));
  if (ctx.json) printJson(ctx.io, release);
  else printLine(ctx.io, `refreshed the variable snapshot of release ${release.project} ${release.version}`);
  return release;
}

interface CreateFlags {
  project: string;
  version?: string;
  package?: string[];
  notes?: string;
}

interface ProjectFlags {
  project: string;
}

export const releaseCommand: CommandDefinition = {
  name: 'release',
  register(parent, invoke) {
    const group = parent
      .command('release')
      .summary('create, list and show releases of a project')
      .description(
        'Manage releases (needs an admin key). A release is an immutable snapshot of a project\'s deployment process and one version of every package it deploys.',
      )
      .addHelpText(
        'after',
        examples(
          'cuttle release create --project Acme --package Acme.Web:1.4.0',
          'cuttle release list --project Acme',
          'cuttle release show --project Acme 0.0.3',
          'cuttle release snapshot-variables --project Acme --version 0.0.3',
        ),
      );

    group
      .command('create')
      .summary('create a release (the next patch version and the newest packages unless given)')
      .description(
        'Create a release of a project. Without --version the hub takes the next patch number (0.0.1 first); every package not pinned with --package ' +
          'is taken at its newest version on the hub.',
      )
      .requiredOption('--project <name>', 'the project')
      .option('--version <semver>', 'release version (default: the next patch number)')
      .option('--package <id:version>', 'pin a package version, as Acme.Web:1.4.0 or Acme.Web@1.4.0 (repeatable, or comma-separated)', collect)
      .option('--notes <text>', 'release notes')
      .addHelpText(
        'after',
        examples(
          'cuttle release create --project Acme',
          'cuttle release create --project Acme --version 1.4.0 --package Acme.Web:1.4.0 --package Acme.Db@2.0.1 --notes "DEV-123"',
          'cuttle release create --project Acme --json | jq -r .version',
        ),
      )
      .action((_flags: CreateFlags, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<CreateFlags>();
          await runCreateRelease(ctx, {
            project: flags.project,
            ...(flags.version === undefined ? {} : { version: flags.version }),
            packages: flags.package ?? [],
            ...(flags.notes === undefined ? {} : { notes: flags.notes }),
          });
        }),
      );

    group
      .command('list')
      .summary("list a project's releases, newest first")
      .requiredOption('--project <name>', 'the project')
      .addHelpText('after', examples('cuttle release list --project Acme', 'cuttle release list --project Acme --json | jq -r ".items[0].version"'))
      .action((_flags: ProjectFlags, command: Command) =>
        invoke(command, async (ctx) => {
          await runListReleases(ctx, command.opts<ProjectFlags>().project);
        }),
      );

    group
      .command('show')
      .summary('show a release: its packages and the steps it snapshotted')
      .argument('<version>', 'the release version')
      .requiredOption('--project <name>', 'the project')
      .addHelpText('after', examples('cuttle release show --project Acme 0.0.3', 'cuttle release show --project Acme 0.0.3 --json'))
      .action((version: string, _flags: ProjectFlags, command: Command) =>
        invoke(command, async (ctx) => {
          await runShowRelease(ctx, command.opts<ProjectFlags>().project, version);
        }),
      );

    group
      .command('snapshot-variables')
      .summary("refresh a release's snapshot of the project's variables")
      .description(
        'A release snapshots the variables when it is created, so that it deploys the same configuration later. ' +
          "This replaces the snapshot with the project's current variables (and those of its variable sets).",
      )
      .requiredOption('--project <name>', 'the project')
      .requiredOption('--version <semver>', 'the release version')
      .addHelpText('after', examples('cuttle release snapshot-variables --project Acme --version 0.0.3'))
      .action((_flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<{ project: string; version: string }>();
          await runSnapshotVariables(ctx, flags.project, flags.version);
        }),
      );
  },
};
