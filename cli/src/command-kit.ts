import { Option, type Command } from 'commander';
import type { Io } from './context.js';
import { DEFAULT_HUB_URL, DEFAULT_TIMEOUT_SECONDS } from './context.js';
import type { HubClient } from './hub-client.js';

/** What every command's run function gets: where to write, the output mode, the hub. */
export interface CommandContext {
  io: Io;
  json: boolean;
  /** Aborted on Ctrl-C: long operations stop and clean up. */
  signal?: AbortSignal;
  /** The hub client, built on first use (so that `pack` never needs a valid --hub). */
  hub(): HubClient;
}

/** Runs a command body with the context built from the parsed command line. */
export type Invoke = (command: Command, body: (ctx: CommandContext) => Promise<void>) => Promise<void>;

/** One entry of the command table: adds its commander (sub)command to `parent`. */
export interface CommandDefinition {
  name: string;
  register(parent: Command, invoke: Invoke): void;
}

const GLOBAL_GROUP = 'Global Options:';

/**
 * The global options, added to every command so that they may come before or after the
 * command name (`cuttle --json push x.zip` and `cuttle push x.zip --json`).
 * No commander defaults: a subcommand default would hide a value given before the command.
 */
export function addGlobalOptions(command: Command): Command {
  command
    .addOption(new Option('--hub <url>', `hub API URL (env CUTTLE_HUB, default ${DEFAULT_HUB_URL})`).helpGroup(GLOBAL_GROUP))
    .addOption(new Option('--api-key <key>', 'API key sent as X-Api-Key (env CUTTLE_API_KEY, preferred: flags show up in process lists)').helpGroup(GLOBAL_GROUP))
    .addOption(new Option('--json', 'machine-readable output: one JSON document, or one JSON event per line').helpGroup(GLOBAL_GROUP));
  // deploy and rollback give --timeout a longer meaning (how long --wait waits) and document it themselves.
  if (command.options.some((option) => option.long === '--timeout')) return command;
  return command.addOption(
    new Option('--timeout <seconds>', `give up when the hub sends nothing for this long (env CUTTLE_TIMEOUT, default ${DEFAULT_TIMEOUT_SECONDS})`).helpGroup(GLOBAL_GROUP),
  );
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `Examples:` help section. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}
