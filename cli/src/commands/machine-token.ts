import { CreateRegistrationTokenRequestSchema, type HubInfo, type RegistrationToken } from '@cuttle/shared';
import type { CommandContext } from '../command-kit.js';
import { checkRequest, parseInteger, parseNameList } from '../local-validation.js';
import { formatTimestamp, printJson, printLine } from '../output.js';

/** Longest lifetime of a registration token the hub accepts (7 days). */
export const MAX_TOKEN_MINUTES = 7 * 24 * 60;

export interface MachineTokenOptions {
  /** Each may be a comma-separated list: `--environment Test,Staging` or repeated. */
  environments: readonly string[];
  roles: readonly string[];
  /** Text as given on the command line. */
  expiresInMinutes?: string;
}

/** What `--json` prints: the hub's token plus where a tentacle connects and what it pins. */
export interface MachineTokenResult extends RegistrationToken {
  hub: { tentacleUrl: string; fingerprint: string };
}

/** `wss://<host of --hub>:<tentacle port>`: the hub's tentacle endpoint as tentacles see it. */
export function tentacleUrl(hubUrl: URL, tentaclePort: number): string {
  // URL.hostname keeps the brackets of an IPv6 address.
  return `wss://${hubUrl.hostname}:${tentaclePort}`;
}

const SHELL_SAFE = /^[A-Za-z0-9._,:/=@%+-]+$/;

/** A POSIX-shell word: as is when safe, otherwise single-quoted. */
export function shellQuote(value: string): string {
  return SHELL_SAFE.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The `cuttle-tentacle register` line to paste on the target server. Values the token does not
 * fix are placeholders (`<name>`, `<roles>` when any role is allowed, ...) to fill in.
 */
export function registerCommandLine(token: RegistrationToken, hub: MachineTokenResult['hub']): { line: string; placeholders: string[] } {
  const placeholders: string[] = [];
  const placeholder = (name: string): string => {
    placeholders.push(name);
    return `<${name}>`;
  };
  const words = [
    'cuttle-tentacle register',
    `--hub ${shellQuote(hub.tentacleUrl)}`,
    `--token ${shellQuote(token.token)}`,
    `--name ${placeholder('name')}`,
    `--roles ${token.roles.length === 0 ? placeholder('roles') : shellQuote(token.roles.join(','))}`,
    `--environments ${token.environments.length === 0 ? placeholder('environments') : shellQuote(token.environments.join(','))}`,
    `--hub-fingerprint ${shellQuote(hub.fingerprint)}`,
    `--home ${placeholder('dir')}`,
  ];
  return { line: words.join(' '), placeholders };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname.startsWith('127.') || hostname === '[::1]';
}

function describeScope(names: readonly string[], none: string): string {
  return names.length === 0 ? none : names.join(', ');
}

/**
 * Creates a one-time registration token and prints it with the command that registers a
 * tentacle with it. The hub info is fetched first, so a failure there wastes no token.
 */
export async function runMachineToken(ctx: CommandContext, options: MachineTokenOptions): Promise<MachineTokenResult> {
  const environments = parseNameList('environment', options.environments, '--environment');
  const roles = parseNameList('role', options.roles, '--role');
  const body = checkRequest(
    CreateRegistrationTokenRequestSchema,
    {
      ...(environments.length === 0 ? {} : { environments }),
      ...(roles.length === 0 ? {} : { roles }),
      ...(options.expiresInMinutes === undefined
        ? {}
        : { expiresInMinutes: parseInteger(options.expiresInMinutes, '--expires-in-minutes', { min: 1, max: MAX_TOKEN_MINUTES }) }),
    },
    'create the registration token',
  );

  const client = ctx.hub();
  const info: HubInfo = await client.hubInfo();
  const token = await client.createRegistrationToken(body);
  const result: MachineTokenResult = { ...token, hub: { tentacleUrl: tentacleUrl(client.hubUrl, info.tentaclePort), fingerprint: info.fingerprint } };
  if (ctx.json) {
    printJson(ctx.io, result);
    return result;
  }

  const { line, placeholders } = registerCommandLine(token, result.hub);
  const io = ctx.io;
  printLine(io, `created a registration token; it works once and expires at ${formatTimestamp(token.expiresAt)}`);
  printLine(io, `  environments: ${describeScope(token.environments, 'any existing environment')}`);
  printLine(io, `  roles:        ${describeScope(token.roles, 'any')}`);
  printLine(io, '');
  printLine(io, `    ${token.token}`);
  printLine(io, '');
  printLine(io, `This is the only time the token is shown. On the target server, fill in ${placeholders.map((name) => `<${name}>`).join(', ')} and run:`);
  printLine(io, '');
  printLine(io, `    ${line}`);
  if (isLoopback(client.hubUrl.hostname)) {
    printLine(io, '');
    printLine(io, `The hub was reached as ${client.hubUrl.hostname}: replace it with an address the target server can reach.`);
  }
  return result;
}
