import type { Command } from 'commander';
import { assertValidPackageId, compareVersions, isValidSemVer, type PackageInfo } from '@cuttle/shared';
import { examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { formatBytes, formatTimestamp, printJson, printLine, renderTable, shortSha } from '../output.js';

export interface PackagesOptions {
  id?: string;
}

/** By id, then newest version first. */
function byIdThenNewest(a: PackageInfo, b: PackageInfo): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  // A version the hub should never have sorts by its text instead of failing the listing.
  if (isValidSemVer(a.version) && isValidSemVer(b.version)) return compareVersions(b.version, a.version);
  return a.version < b.version ? 1 : a.version > b.version ? -1 : 0;
}

/** Lists the hub's packages (optionally one id's versions): a table, or `{"items":[...]}`. */
export async function runPackages(ctx: CommandContext, options: PackagesOptions): Promise<PackageInfo[]> {
  if (options.id !== undefined) assertValidPackageId(options.id);
  const items = await ctx.hub().listPackages(options.id);
  if (ctx.json) {
    printJson(ctx.io, { items });
    return items;
  }
  if (items.length === 0) {
    printLine(ctx.io, options.id === undefined ? 'no packages on the hub' : `no versions of ${options.id} on the hub`);
    return items;
  }
  const rows = [...items]
    .sort(byIdThenNewest)
    .map((pkg) => [pkg.id, pkg.version, formatBytes(pkg.size), formatTimestamp(pkg.uploadedAt), shortSha(pkg.sha256)]);
  printLine(ctx.io, renderTable(['id', 'version', 'size', 'uploaded', 'sha256'], rows));
  return items;
}

interface PackagesFlags {
  id?: string;
}

export const packagesCommand: CommandDefinition = {
  name: 'packages',
  register(parent, invoke) {
    parent
      .command('packages')
      .summary('list the packages on the hub')
      .description('List the packages stored on the hub: id, version, size, upload time and the start of the SHA-256.')
      .option('--id <PackageId>', 'only the versions of this package')
      .addHelpText('after', examples('cuttle packages', 'cuttle packages --id Acme.Web', 'cuttle packages --json | jq -r ".items[].version"'))
      .action((_flags: PackagesFlags, command: Command) =>
        invoke(command, async (ctx) => {
          await runPackages(ctx, { id: command.opts<PackagesFlags>().id });
        }),
      );
  },
};
