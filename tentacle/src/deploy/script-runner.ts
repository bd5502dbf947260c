import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { PROTOCOL_LIMITS } from '@cuttle/shared';
import { JobFailure } from './job-failure.js';
import { LineSplitter } from './line-splitter.js';
import type { ScriptRecords } from './script-records.js';

export interface ScriptRun {
  /** the script file, run as `bash <file>` (no run bit needed) */
  file: string;
  /** how logs and failures name it: "Deploy.sh", "the script" */
  name: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutSeconds: number;
  signal: AbortSignal;
  output: (stream: 'stdout' | 'stderr', line: string) => void;
  /** while true, reading the script's output pauses (the hub is not keeping up) */
  congested: () => boolean;
  killGraceMs: number;
  outputDrainMs: number;
  /** process groups of running scripts, so that a stopping tentacle can kill them all */
  groups: Set<number>;
  /** where the script is recorded while it runs, so that a tentacle killed meanwhile can end it at its next start */
  records: ScriptRecords;
  /** the job the script belongs to (named in the record) */
  jobId: string | null;
  /** while true, the script's output is read (so that it never blocks) but not split into lines: it is being dropped */
  discardingOutput?: () => boolean;
  /** characters of an output line read before the rest is skipped (default maxLogLineChars) */
  lineReadChars?: number;
}

export interface ScriptExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
}

/** How often paused output checks whether the socket has drained. */
const CONGESTION_POLL_MS = 50;

/**
 * Runs one script in its own process group (so that a kill reaches everything it started), stdin
 * closed, its output split into lines as it comes. Resolves with its exit whatever the code; throws
 * JobFailure `script-timeout` when it ran too long, the signal's reason when aborted (both after
 * killing the group: SIGTERM, then SIGKILL once the script exits or killGraceMs passed), or
 * JobFailure `script-failed` when bash cannot start.
 */
export function runScript(run: ScriptRun): Promise<ScriptExit> {
  run.signal.throwIfAborted();
  const started = performance.now();
  return new Promise<ScriptExit>((resolve, reject) => {
    const child = spawn('bash', [run.file], { cwd: run.cwd, env: run.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pid = child.pid;
    let killedFor: 'timeout' | 'abort' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let pollTimer: NodeJS.Timeout | undefined;
    let exited = false;

    const killGroup = (signal: NodeJS.Signals): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const kill = (why: 'timeout' | 'abort'): void => {
      if (killedFor !== undefined || exited) return;
      killedFor = why;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), run.killGraceMs);
    };
    const timeout = setTimeout(() => kill('timeout'), run.timeoutSeconds * 1000);
    const onAbort = (): void => kill('abort');
    run.signal.addEventListener('abort', onAbort, { once: true });
    let unrecord = (): void => {};
    if (pid !== undefined) {
      run.groups.add(pid);
      unrecord = run.records.add({ pid, pgid: pid, script: run.name, file: run.file, jobId: run.jobId });
    }

    const streams: Array<{ stream: Readable; lines: LineSplitter; ended: Promise<void> }> = [];
    for (const [name, stream] of [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const) {
      const lines = new LineSplitter((line) => run.output(name, line), run.lineReadChars ?? PROTOCOL_LIMITS.maxLogLineChars);
      stream.on('data', (chunk: Buffer) => {
        if (run.discardingOutput?.() !== true) lines.write(chunk);
        if (run.congested()) holdOutput();
      });
      const ended = new Promise<void>((done) => {
        stream.once('end', done);
        stream.once('close', done);
        stream.once('error', () => done());
      });
      streams.push({ stream, lines, ended });
    }
    // both streams pause together and resume once the socket has room again
    const holdOutput = (): void => {
      if (pollTimer !== undefined) return;
      for (const { stream } of streams) stream.pause();
      const poll = (): void => {
        if (run.congested() && !exited) {
          pollTimer = setTimeout(poll, CONGESTION_POLL_MS);
          return;
        }
        pollTimer = undefined;
        for (const { stream } of streams) stream.resume();
      };
      pollTimer = setTimeout(poll, CONGESTION_POLL_MS);
    };

    const cleanup = (): void => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      clearTimeout(pollTimer);
      run.signal.removeEventListener('abort', onAbort);
      if (pid !== undefined) run.groups.delete(pid);
      unrecord();
    };

    child.once('error', (error) => {
      if (exited) return;
      exited = true;
      cleanup();
      reject(new JobFailure('script-failed', `cannot run ${run.name} with bash: ${error.message}`, { cause: error }));
    });

    child.once('exit', (code, signal) => {
      if (exited) return;
      exited = true;
      // what the script left running dies with it when it was killed; a normal exit leaves it be
      if (killedFor !== undefined) killGroup('SIGKILL');
      cleanup();
      for (const { stream } of streams) stream.resume();
      // background children may hold the pipes open: read what comes for a moment, then stop
      const drained = Promise.all(streams.map((s) => s.ended));
      let drainTimer: NodeJS.Timeout | undefined;
      const drainLimit = new Promise<void>((done) => (drainTimer = setTimeout(done, run.outputDrainMs)));
      void Promise.race([drained, drainLimit]).then(() => {
        clearTimeout(drainTimer);
        for (const { stream, lines } of streams) {
          stream.removeAllListeners('data');
          stream.destroy();
          lines.end();
        }
        const exit: ScriptExit = { code, signal, durationMs: performance.now() - started };
        if (killedFor === 'timeout') {
          reject(new JobFailure('script-timeout', `${run.name} ran longer than its timeout of ${run.timeoutSeconds} s and was killed`));
        } else if (killedFor === 'abort') {
          reject(run.signal.reason);
        } else {
          resolve(exit);
        }
      });
    });
  });
}

/** "exited with 3" or "was killed by SIGKILL". */
export function describeExit(exit: Pick<ScriptExit, 'code' | 'signal'>): string {
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with ${exit.code ?? 'an unknown code'}`;
}

/** Kills every running script's process group at once (the tentacle is exiting). */
export function killGroups(groups: Set<number>): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  groups.clear();
}
