import { Command } from 'commander';
import { addGlobalOptions, type CommandContext, type CommandDefinition, type Invoke } from './command-kit.js';
import { apiKeyCommand } from './commands/api-key.js';
import { dashboardCommand } from './commands/dashboard.js';
import { deployCommand } from './commands/deploy.js';
import { envCommand } from './commands/env.js';
import { machineCommand } from './commands/machine.js';
import { machinesCommand } from './commands/machines.js';
import { packCommand } from './commands/pack.js';
import { packagesCommand } from './commands/packages.js';
import { projectCommand } from './commands/project.js';
import { pushCommand } from './commands/push.js';
import { releaseCommand } from './commands/release.js';
import { rollbackCommand } from './commands/rollback.js';
import { statusCommand } from './commands/status.js';
import { taskCommand } from './commands/task.js';
import { variableSetCommand } from './commands/variable-set.js';
import { variablesCommand } from './commands/variables.js';
import { resolveGlobalOptions, type Io, type RawGlobalOptions } from './context.js';
import { HubClient } from './hub-client.js';

/** Every command of `cuttle`, in the order `--help` lists them. */
export const COMMANDS: readonly CommandDefinition[] = [
  packCommand,
  pushCommand,
  packagesCommand,
  projectCommand,
  variablesCommand,
  variableSetCommand,
  releaseCommand,
  deployCommand,
  rollbackCommand,
  taskCommand,
  statusCommand,
  dashboardCommand,
  envCommand,
  machinesCommand,
  machineCommand,
  apiKeyCommand,
];

export interface ProgramOptions {
  io: Io;
  version: string;
  signal?: AbortSignal;
}

function forEachCommand(command: Command, visit: (command: Command) => void): void {
  visit(command);
  for (const child of command.commands) forEachCommand(child, visit);
}

/**
 * Builds the commander program. It never exits the process: commander's own exits are
 * thrown as `CommanderError` (exitOverride) and its error output is left to `main`.
 */
export function buildProgram(options: ProgramOptions): Command {
  const { io } = options;
  const program = new Command('cuttle')
    .description('Cuttle command-line client: pack, push and list packages; manage projects, their variables and releases; deploy, roll back and follow deployments; see which release is on which machine; manage environments, machines and API keys.')
    .version(options.version, '-V, --version', 'print the version of cuttle')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 the operation failed, 2 usage or validation error,\n' +
        '3 the hub could not be reached or authentication failed.\n' +
        '\nExamples:\n' +
        '  $ cuttle pack ./publish --id Acme.Web --version 1.4.0\n' +
        '  $ CUTTLE_HUB=http://hub:8080 CUTTLE_API_KEY=... cuttle push Acme.Web.1.4.0.zip\n' +
        '  $ cuttle packages --id Acme.Web --json\n' +
        '  $ cuttle project apply -f cuttle.yaml\n' +
        '  $ cuttle variables import --project Acme -f vars.yaml\n' +
        '  $ cuttle release create --project Acme --package Acme.Web:1.4.0\n' +
        '  $ cuttle deploy --project Acme --release 0.0.1 --environment Test --wait\n' +
        '  $ cuttle status --project Acme\n' +
        '  $ cuttle machine token --environment Test --role web-server\n' +
        '  $ cuttle machines --environment Production\n',
    );

  const invoke: Invoke = async (command, body) => {
    const raw = command.optsWithGlobals<RawGlobalOptions>();
    let client: HubClient | undefined;
    const ctx: CommandContext = {
      io,
      json: raw.json === true,
      hub: () => {
        client ??= new HubClient({
          ...resolveGlobalOptions(raw, io.env),
          userAgent: `cuttle-cli/${options.version}`,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
        return client;
      },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    await body(ctx);
  };

  for (const definition of COMMANDS) definition.register(program, invoke);
  forEachCommand(program, addGlobalOptions);
  return program;
}
