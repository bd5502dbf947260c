import { EXIT, classifyNetworkErrorCode, errorCodeOf } from '@cuttle/shared';
import { CliError } from './cli-error.js';

export function timeoutError(hubUrl: URL, timeoutMs: number): CliError {
  return new CliError('hub-timeout', `the hub at ${hubUrl.origin} did not answer within ${timeoutMs / 1000} s (raise it with --timeout)`, {
    exitCode: EXIT.unreachable,
    details: { hub: hubUrl.origin, timeoutMs },
  });
}

/**
 * Turns a socket-level failure (no HTTP answer to show) into an exit-3 error that says
 * what happened in words; Node's own messages are empty for some of these (AggregateError).
 */
export function networkError(error: unknown, hubUrl: URL): CliError {
  if (error instanceof CliError) return error;
  const code = errorCodeOf(error) ?? 'unknown';
  const hub = hubUrl.origin;
  const raw = error instanceof Error && error.message !== '' ? error.message : code;
  const details = { hub, cause: code };
  const make = (cliCode: 'hub-unreachable' | 'connection-lost' | 'hub-timeout', message: string) =>
    new CliError(cliCode, message, { exitCode: EXIT.unreachable, details, cause: error });

  const kind = classifyNetworkErrorCode(code);

  if (kind === 'refused') {
    const what = code === 'ECONNREFUSED' ? 'connection refused' : 'no route to the host';
    return make('hub-unreachable', `cannot reach the hub at ${hub}: ${what} (${code}); is it running, and is --hub right?`);
  }
  if (kind === 'dns') return make('hub-unreachable', `cannot reach the hub at ${hub}: the host name "${hubUrl.hostname}" does not resolve (${code})`);
  if (kind === 'tls') return make('hub-unreachable', `TLS with the hub at ${hub} failed: ${raw}`);
  if (kind === 'timeout') return make('hub-timeout', `the connection to the hub at ${hub} timed out (${code})`);
  if (kind === 'broken' || raw === 'socket hang up') {
    return make('connection-lost', `the hub at ${hub} closed the connection before answering (${code})`);
  }
  return make('hub-unreachable', `cannot talk to the hub at ${hub}: ${raw}`);
}
