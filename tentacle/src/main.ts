#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { PROTOCOL_VERSION } from '@cuttle/shared';

const USAGE = `Usage: cuttle-tentacle <command> [options]

The Cuttle agent on a target server: keeps one outbound TLS websocket to the hub and
installs the releases the hub sends it.

Commands:
  register --hub URL --token TOKEN --name NAME --roles r1,r2 --environments Test --home DIR [--hub-fingerprint sha256:...]
                          register this machine with a hub (URL is the tentacle endpoint, wss://host:10943)
  run --home DIR          connect to the hub and serve deployments (CUTTLE_TENTACLE_HOME sets --home)

Options:
  -h, --help              show this help
  -v, --version           show the version

Registration and the connection to the hub arrive in a coming release; this build
knows its version and protocol (${PROTOCOL_VERSION}) only.
`;

function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const [command] = process.argv.slice(2);
if (command === '--version' || command === '-v' || command === 'version') {
  process.stdout.write(`${version()}\n`);
} else if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(USAGE);
} else if (command === 'register' || command === 'run') {
  process.stderr.write(`cuttle-tentacle: "${command}" is not available in this build yet.\n`);
  process.exitCode = 2;
} else {
  process.stderr.write(`cuttle-tentacle: unknown command "${command}".\n\n${USAGE}`);
  process.exitCode = 2;
}
