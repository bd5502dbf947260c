import type { Command } from 'commander';
import type { Dashboard } from '@cuttle/shared';
import { examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { printJson, printLine, renderTable } from '../output.js';

type Cell = Dashboard['projects'][number]['environments'][number];

/** `1.4.0`, `1.4.1 running`, `1.4.1 failed (last success 1.4.0)`, or `-`. */
export function formatCell(cell: Cell | undefined): string {
  if (cell?.latest === undefined || cell.latest === null) return cell?.lastSuccess ?? '-';
  const { release, state } = cell.latest;
  if (state === 'success') return release;
  const previous = cell.lastSuccess !== null && cell.lastSuccess !== release ? ` (last success ${cell.lastSuccess})` : '';
  return `${release} ${state}${previous}`;
}

/** `GET /api/v1/dashboard`: one row per project, one column per environment (in deployment order). */
export async function runDashboard(ctx: CommandContext): Promise<Dashboard> {
  const dashboard = await ctx.hub().dashboard();
  if (ctx.json) {
    printJson(ctx.io, dashboard);
    return dashboard;
  }
  if (dashboard.projects.length === 0) {
    printLine(ctx.io, 'no projects; define one with: cuttle project apply -f cuttle.yaml');
    return dashboard;
  }
  const rows = dashboard.projects.map((row) => [
    row.project,
    ...dashboard.environments.map((environment) => formatCell(row.environments.find((cell) => cell.environment === environment))),
  ]);
  printLine(ctx.io, renderTable(['project', ...dashboard.environments], rows));
  return dashboard;
}

export const dashboardCommand: CommandDefinition = {
  name: 'dashboard',
  register(parent, invoke) {
    parent
      .command('dashboard')
      .summary('projects x environments: the newest deployment of each and how it ended')
      .addHelpText('after', examples('cuttle dashboard', 'cuttle dashboard --json'))
      .action((_flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runDashboard(ctx);
        }),
      );
  },
};
