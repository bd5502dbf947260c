import type { Command } from 'commander';
import type { Project } from '@cuttle/shared';
import { examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { checkName } from '../local-validation.js';
import { formatTimestamp, printJson, printLine, renderTable } from '../output.js';
import { countSteps, deployedPackages, renderProject } from '../project-view.js';

export interface ApplyProjectOptions {
  /** Path of the YAML or JSON file, relative to the working directory. */
  file: string;
  /** Overrides the file's top-level `name`. */
  name?: string;
}

/**
 * Reads and checks the file (every problem at once, exit 2, nothing sent), then sends the
 * whole definition as `PUT /api/v1/projects/{name}`.
 */
export async function runApplyProject(ctx: CommandContext, options: ApplyProjectOptions): Promise<Project> {
  // loaded on use: the YAML parser is the CLI's heaviest import, and only this command needs it
  const { readProjectFile } = await import('../project-file.js');
  const { name, definition } = await readProjectFile(ctx.io.cwd, options.file, options.name);
  const { project, created } = await ctx.hub().putProject(name, definition);
  if (ctx.json) printJson(ctx.io, project);
  else printLine(ctx.io, `${created ? 'created' : 'updated'} project ${project.name} (${countSteps(project.steps.length)})`);
  return project;
}

/** A table (name, steps, packages, updated, description), or the hub's `{"items":[...]}`. */
export async function runListProjects(ctx: CommandContext): Promise<Project[]> {
  const items = await ctx.hub().listProjects();
  if (ctx.json) printJson(ctx.io, { items });
  else if (items.length === 0) printLine(ctx.io, 'no projects; create one with: cuttle project apply -f cuttle.yaml');
  else {
    const rows = items.map((project) => [
      project.name,
      String(project.steps.length),
      deployedPackages(project.steps).join(', ') || '-',
      formatTimestamp(project.updatedAt),
      project.description ?? '',
    ]);
    printLine(ctx.io, renderTable(['name', 'steps', 'packages', 'updated', 'description'], rows));
  }
  return items;
}

export async function runShowProject(ctx: CommandContext, name: string): Promise<Project> {
  const project = await ctx.hub().getProject(checkName('project', name, 'project name'));
  if (ctx.json) printJson(ctx.io, project);
  else printLine(ctx.io, renderProject(project));
  return project;
}

export async function runRemoveProject(ctx: CommandContext, name: string): Promise<void> {
  const checked = checkName('project', name, 'project name');
  await ctx.hub().deleteProject(checked);
  if (ctx.json) printJson(ctx.io, { name: checked, removed: true });
  else printLine(ctx.io, `removed project ${checked}`);
}

interface ApplyFlags {
  file: string;
  name?: string;
}

export const projectCommand: CommandDefinition = {
  name: 'project',
  register(parent, invoke) {
    const group = parent
      .command('project')
      .summary('apply, list, show and remove projects (their deployment process)')
      .description(
        'Manage projects (needs an admin key). A project is a deployment process: an ordered list of deploy-package and run-script steps, ' +
          'kept in a YAML or JSON file (cuttle.yaml) and applied with `cuttle project apply`.\n' +
          'Names: letters, digits, ".", "-", "_"; 1-100 characters, starting with a letter or digit.',
      )
      .addHelpText('after', examples('cuttle project apply -f cuttle.yaml', 'cuttle project list', 'cuttle project show Acme', 'cuttle project remove Acme'));

    group
      .command('apply')
      .summary('create or replace a project from a YAML or JSON file')
      .description(
        'Read a project definition from a YAML or JSON file (its top-level "name" is the project name unless --name is given), ' +
          'check it locally (every problem is listed, exit 2, nothing is sent), then create the project or replace its whole definition.',
      )
      .requiredOption('-f, --file <path>', 'the project file (YAML or JSON)')
      .option('--name <name>', 'project name (overrides "name" in the file)')
      .addHelpText('after', examples('cuttle project apply -f cuttle.yaml', 'cuttle project apply -f deploy/project.json --name Acme.Staging', 'cuttle project apply -f cuttle.yaml --json'))
      .action((_flags: ApplyFlags, command: Command) =>
        invoke(command, async (ctx) => {
          const flags = command.opts<ApplyFlags>();
          await runApplyProject(ctx, { file: flags.file, ...(flags.name === undefined ? {} : { name: flags.name }) });
        }),
      );

    group
      .command('list')
      .summary('list the projects')
      .addHelpText('after', examples('cuttle project list', 'cuttle project list --json | jq -r ".items[].name"'))
      .action((_flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runListProjects(ctx);
        }),
      );

    group
      .command('show')
      .summary('show a project and its steps')
      .argument('<name>', 'name of the project')
      .addHelpText('after', examples('cuttle project show Acme', 'cuttle project show Acme --json'))
      .action((name: string, _flags: unknown, command: Command) =>
        invoke(command, async (ctx) => {
          await runShowProject(ctx, name);
        }),
      );

    group
      .command('remove')
      .summary('remove a project')
      .argument('<name>', 'name of the project')
      .addHelpText('after', examples('cuttle project remove Acme'))
      .action((name: string, _flags: unknown, command: Command) => invoke(command, (ctx) => runRemoveProject(ctx, name)));
  },
};
