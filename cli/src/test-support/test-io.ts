import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeError, type ErrorReport } from '../cli-error.js';
import type { CommandContext } from '../command-kit.js';
import { resolveGlobalOptions, type Io, type RawGlobalOptions } from '../context.js';
import { HubClient } from '../hub-client.js';

export interface TestIo {
  io: Io;
  stdout(): string;
  stderr(): string;
  /** stdout split into parsed JSON lines. */
  jsonLines(): unknown[];
}

export function createTestIo(options: { cwd: string; tty?: boolean; columns?: number; now?: () => number; wallClock?: () => number; env?: Record<string, string>; stdin?: string | Buffer[] }): TestIo {
  let out = '';
  let err = '';
  const io: Io = {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    stderrIsTty: options.tty === true,
    ...(options.columns === undefined ? {} : { stderrColumns: options.columns }),
    env: options.env ?? {},
    cwd: options.cwd,
    now: options.now ?? (() => performance.now()),
    wallClock: options.wallClock ?? (() => Date.now()),
    ...(options.stdin === undefined ? {} : { stdin: () => stdinOf(options.stdin ?? '') }),
  };
  return {
    io,
    stdout: () => out,
    stderr: () => err,
    jsonLines: () =>
      out
        .split('\n')
        .filter((line) => line !== '')
        .map((line): unknown => JSON.parse(line)),
  };
}

/** Standard input that yields `content` (a string as one chunk, or the given chunks) and ends. */
function stdinOf(content: string | Buffer[]): AsyncIterable<Buffer> {
  const chunks = typeof content === 'string' ? [Buffer.from(content)] : content;
  return {
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  };
}

/** A command context like the real one, talking to `hub` (usually a fake hub). */
export function testContext(io: Io, options: { json?: boolean; hub?: string; apiKey?: string; timeout?: string } = {}): CommandContext {
  const raw: RawGlobalOptions = {
    ...(options.hub === undefined ? {} : { hub: options.hub }),
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    json: options.json === true,
  };
  return {
    io,
    json: options.json === true,
    hub: () => new HubClient({ ...resolveGlobalOptions(raw, io.env), userAgent: 'cuttle-cli/test' }),
  };
}

/** A fresh temporary folder; `cleanup` removes it. */
export async function tempDir(prefix = 'cuttle-cli-test-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** What a rejected command would report (code, message, exit code); fails when it succeeds. */
export async function failure(promise: Promise<unknown>): Promise<ErrorReport> {
  try {
    await promise;
  } catch (error) {
    return describeError(error);
  }
  throw new Error('expected a failure');
}
