#!/usr/bin/env node
// Benchmark runner: `npm run bench -- <name> [options]` (or `node test/bench/run.mjs <name> ...`).
// Each benchmark module exports `usage` (its options) and `run(args, scope)`, which resolves to an
// exit code; everything it starts is registered in `scope` and stopped here, also on Ctrl-C.
import { Scope, UsageError } from './support/processes.mjs';

/** @type {Record<string, { summary: string, load: () => Promise<{ usage: string, run: (args: string[], scope: Scope) => Promise<number> }> }>} */
const BENCHMARKS = {
  upload: {
    summary: 'push one large package to the hub with `cuttle push`, against a bare node:http sink (throughput ratio, hub RSS growth)',
    load: () => import('./upload.mjs'),
  },
  swarm: {
    summary: 'N real tentacle connections (default 1000) against one hub: time to all online, hub RSS and idle CPU, reconnect after a hub restart',
    load: () => import('./swarm.mjs'),
  },
  fanout: {
    summary: 'deploy a realistic 200 MiB, 10,000-file package to N real tentacles (default 10), against `unzip` into N folders 2 at a time; then redeploy (0 bytes)',
    load: () => import('./fanout.mjs'),
  },
};

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 };

function usage() {
  const names = Object.entries(BENCHMARKS).map(([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`);
  return `usage: npm run bench -- <benchmark> [options]\n       node test/bench/run.mjs <benchmark> [options]\n\nbenchmarks:\n${names.join('\n')}\n\n<benchmark> --help shows its options.\n`;
}

async function main() {
  const [name, ...args] = process.argv.slice(2);
  const entry = name === undefined ? undefined : Object.hasOwn(BENCHMARKS, name) ? BENCHMARKS[name] : undefined;
  if (entry === undefined) {
    process.stderr.write(`${name === undefined ? 'no benchmark given' : `unknown benchmark "${name}"`}\n\n${usage()}`);
    return 2;
  }
  const bench = await entry.load();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`usage: npm run bench -- ${bench.usage}\n`);
    return 0;
  }

  const scope = new Scope();
  let interrupted = false;
  for (const [signal, exitCode] of Object.entries(SIGNAL_EXIT_CODES)) {
    process.once(signal, () => {
      interrupted = true;
      process.stderr.write(`\n${signal}: stopping child processes and cleaning up...\n`);
      void scope.close().finally(() => process.exit(exitCode));
    });
  }
  // A closed stdout/stderr (`| head`) or any stray error must not skip the cleanup of child processes.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const crash = (/** @type {unknown} */ error) => {
    interrupted = true;
    process.stderr.write(`\nbenchmark "${name}" crashed: ${error instanceof Error ? error.stack : String(error)}\n`);
    void scope.close().finally(() => process.exit(1));
  };
  process.once('uncaughtException', crash);
  process.once('unhandledRejection', crash);
  try {
    return await bench.run(args, scope);
  } catch (error) {
    if (interrupted) return 1;
    if (error instanceof UsageError) {
      process.stderr.write(`${name}: ${error.message}\n\nusage: npm run bench -- ${bench.usage}\n`);
      return 2;
    }
    process.stderr.write(`\nbenchmark "${name}" failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await scope.close();
  }
}

process.exitCode = await main();
