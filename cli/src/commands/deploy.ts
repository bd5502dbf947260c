import type { Command } from 'commander';
import { CreateDeploymentRequestSchema, EXIT, isValidSemVer, type Deployment, type Task } from '@cuttle/shared';
import { CliError } from '../cli-error.js';
import { collect, examples, type CommandContext, type CommandDefinition } from '../command-kit.js';
import { DEFAULT_TIMEOUT_SECONDS, parseTimeout, requestTimeoutFromEnv } from '../context.js';
import { reportCreated, waitForDeployment } from '../deployment-wait.js';
import type { HubClient } from '../hub-client.js';
import { checkName, checkRequest, parseNameList } from '../local-validation.js';
import type { WatchTiming } from '../watch/retry.js';

/** `--release latest`: the project's newest release, looked up before the deployment is created. */
export const LATEST_RELEASE = 'latest';

/** How `deploy` and `rollback` wait: the flags they share. */
export interface WaitFlags {
  wait?: boolean;
  /** With --wait: the longest wait, in seconds. Without: the request timeout, as for every command. */
  timeout?: string;
  /** Tests shorten the pauses of the wait. */
  timing?: Partial<WatchTiming>;
}

export interface DeployOptions extends WaitFlags {
  project: string;
  release: string;
  environment: string;
  /** Repeatable or comma-separated machine names. */
  machines?: readonly string[];
  skipOffline?: boolean;
}

export interface DeployResult {
  deployment: Deployment;
  /** The finished task, with --wait. */
  task?: Task;
}

/**
 * The client a command that may wait uses, and how long it waits. With --wait, `--timeout` is the
 * longest wait and each request keeps its usual idle timeout (CUTTLE_TIMEOUT, 60 s by default,
 * never longer than the wait); that idle timeout is also how long a hub that went away is waited for.
 */
export function waitPlan(ctx: CommandContext, flags: WaitFlags): { client: HubClient; limitMs?: number } {
  const client = ctx.hub();
  if (flags.wait !== true) return { client };
  const requestMs = requestTimeoutFromEnv(ctx.io.env);
  if (flags.timeout === undefined) return { client: client.derive({ timeoutMs: requestMs }) };
  const limitMs = parseTimeout(flags.timeout);
  return { client: client.derive({ timeoutMs: Math.min(requestMs, limitMs) }), limitMs };
}

/** A release version, or `latest`; anything else is exit 2 before any request. */
function checkRelease(release: string): string {
  if (release === LATEST_RELEASE || isValidSemVer(release)) return release;
  throw new CliError('invalid-version', `--release "${release}" is not a valid SemVer 2 version (for example 1.4.0) or "latest".`, {
    exitCode: EXIT.usage,
    details: { release },
  });
}

async function resolveRelease(client: HubClient, project: string, release: string): Promise<string> {
  if (release !== LATEST_RELEASE) return release;
  const newest = (await client.listReleases(project))[0];
  if (newest === undefined) {
    throw new CliError('release-not-found', `${project} has no releases yet; create one with: cuttle release create --project ${project}`, {
      exitCode: EXIT.failed,
      details: { project, release },
    });
  }
  return newest.version;
}

/**
 * `POST /api/v1/deployments`, then, with --wait, the task followed to its end (see
 * `waitForDeployment` for the exit codes). Inputs are checked locally first (exit 2).
 */
export async function runDeploy(ctx: CommandContext, options: DeployOptions): Promise<DeployResult> {
  const project = checkName('project', options.project, '--project');
  const environment = checkName('environment', options.environment, '--environment');
  const release = checkRelease(options.release);
  const machines = parseNameList('machine', options.machines ?? [], '--machine');
  const plan = waitPlan(ctx, options);
  const body = checkRequest(
    CreateDeploymentRequestSchema,
    {
      project,
      release: await resolveRelease(plan.client, project, release),
      environment,
      ...(machines.length === 0 ? {} : { machines }),
      ...(options.skipOffline === true ? { skipOffline: true } : {}),
    },
    `deploy ${project}`,
  );
  const deployment = await plan.client.createDeployment(body);
  reportCreated(ctx, deployment, options.wait === true);
  if (options.wait !== true) return { deployment };
  const settings = { ...(plan.limitMs === undefined ? {} : { limitMs: plan.limitMs }), ...(options.timing === undefined ? {} : { timing: options.timing }) };
  return { deployment, task: await waitForDeployment(ctx, plan.client, deployment, settings) };
}

/** `--machine`, `--skip-offline`, `--wait` and `--timeout`, shared with rollback. */
export function addTargetAndWaitOptions(command: Command): Command {
  return command
    .option('--machine <name>', 'only this machine of the environment (repeatable, or comma-separated)', collect)
    .option('--skip-offline', 'skip machines that are offline instead of failing them')
    .option('--wait', 'follow the deployment to its end: exit 0 on success, 1 when it failed or was cancelled')
    .option(
      '--timeout <seconds>',
      `with --wait: stop waiting after this long (exit 1; the deployment goes on). Without: give up when the hub sends nothing for this long (env CUTTLE_TIMEOUT, default ${DEFAULT_TIMEOUT_SECONDS})`,
    );
}

interface DeployFlags {
  project: string;
  release: string;
  environment: string;
  machine?: string[];
  skipOffline?: boolean;
  wait?: boolean;
  timeout?: string;
}

export const deployCommand: CommandDefinition = {
  name: 'deploy',
  register(parent, invoke) {
    const command = parent
      .command('deploy')
      .summary('deploy a release of a project to an environment (--wait to follow it to its end)')
      .description(
        'Deploy a release to every enabled machine of an environment whose roles match a step (or only the --machine ones). ' +
          'Prints the deployment and its task at once; with --wait, follows it and exits 0 on success, 1 when it failed or was cancelled. ' +
          'Ctrl-C while waiting only stops waiting; cancel with: cuttle task cancel ID.',
      )
      .requiredOption('--project <name>', 'the project')
      .requiredOption('--release <version>', 'the release version, or "latest" for the newest release of the project')
      .requiredOption('--environment <name>', 'the environment');
    addTargetAndWaitOptions(command)
      .addHelpText(
        'after',
        examples(
          'cuttle deploy --project Acme --release 1.4.0 --environment Test --wait',
          'cuttle deploy --project Acme --release latest --environment Staging --wait --timeout 1800',
          'cuttle deploy --project Acme --release 1.4.0 --environment Production --machine web-01,web-02 --skip-offline',
          'cuttle deploy --project Acme --release 1.4.0 --environment Test --wait --json',
        ),
      )
      .action((_flags: DeployFlags, cmd: Command) =>
        invoke(cmd, async (ctx) => {
          const flags = cmd.opts<DeployFlags>();
          const timeout = cmd.optsWithGlobals<DeployFlags>().timeout;
          await runDeploy(ctx, {
            project: flags.project,
            release: flags.release,
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
