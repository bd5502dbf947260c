import type { Command } from 'commander';
import { RollbackRequestSchema } from '@cuttle/shared';
import { examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { reportCreated, waitForDeployment } from '../deployment-wait.js';
import { checkName, checkRequest, parseNameList } from '../local-validation.js';
import { addTargetAndWaitOptions, waitPlan, type DeployResult, type WaitFlags } from './deploy.js';

export interface RollbackOptions extends WaitFlags {
  project: string;
  environment: string;
  machines?: readonly string[];
  skipOffline?: boolean;
}

/**
 * `POST /api/v1/rollback`: the hub deploys the release that was current before the latest
 * successful one again (409 `no-previous-release` when there is none, exit 1). Waits like deploy.
 */
export async function runRollback(ctx: CommandContext, options: RollbackOptions): Promise<DeployResult> {
  const project = checkName('project', options.project, '--project');
  const environment = checkName('environment', options.environment, '--environment');
  const machines = parseNameList('machine', options.machines ?? [], '--machine');
  const body = checkRequest(
    RollbackRequestSchema,
    {
      project,
      environment,
      ...(machines.length === 0 ? {} : { machines }),
      ...(options.skipOffline === true ? { skipOffline: true } : {}),
    },
    `roll back ${project}`,
  );
  const plan = waitPlan(ctx, options);
  const deployment = await plan.client.rollback(body);
  reportCreated(ctx, deployment, options.wait === true);
  if (options.wait !== true) return { deployment };
  const settings = { ...(plan.limitMs === undefined ? {} : { limitMs: plan.limitMs }), ...(options.timing === undefined ? {} : { timing: options.timing }) };
  return { deployment, task: await waitForDeployment(ctx, plan.client, deployment, settings) };
}

interface RollbackFlags {
  project: string;
  environment: string;
  machine?: string[];
  skipOffline?: boolean;
  wait?: boolean;
  timeout?: string;
}

export const rollbackCommand: CommandDefinition = {
  name: 'rollback',
  register(parent, invoke) {
    const command = parent
      .command('rollback')
      .summary('deploy the previous successful release of a project to an environment again')
      .description(
        'Roll an environment back: the hub deploys the release that was current before the latest successful one again ' +
          '(tentacles that still keep it need no new transfer). Waits like deploy with --wait.',
      )
      .requiredOption('--project <name>', 'the project')
      .requiredOption('--environment <name>', 'the environment');
    addTargetAndWaitOptions(command)
      .addHelpText(
        'after',
        examples('cuttle rollback --project Acme --environment Production --wait', 'cuttle rollback --project Acme --environment Test --machine web-02 --json'),
      )
      .action((_flags: RollbackFlags, cmd: Command) =>
        invoke(cmd, async (ctx) => {
          const flags = cmd.opts<RollbackFlags>();
          const timeout = cmd.optsWithGlobals<RollbackFlags>().timeout;
          await runRollback(ctx, {
            project: flags.project,
            environment: flags.environment,
            machines: flags.machine ?? [],
            ...(flags.skipOffline === true ? { skipOffline: true } : {}),
            ...(flags.wait === true ? { wait: true } : {}),
            ...(timeout === undefined ? {} : { timeout }),
          });
        }),
      );
  },
};
