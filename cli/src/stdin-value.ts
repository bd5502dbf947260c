import { invalidOption } from './cli-error.js';
import type { Io } from './context.js';

/**
 * `--value-stdin`: a variable's value read from standard input, so that secrets stay out of
 * shell history and process lists. One trailing line break (what `echo` and here-strings add)
 * is not part of the value. Empty input is refused: it is nearly always an unset shell variable
 * (`printf '%s' "$PASWORD"`), and saving an empty secret would break a deployment later.
 */
export async function readValueFromStdin(io: Io, maxBytes: number): Promise<string> {
  const stdin = io.stdin?.();
  if (stdin === undefined) throw invalidOption('--value-stdin: there is no standard input to read from.', {});
  if (stdin.isTTY === true) io.stderr.write('reading the value from standard input; end it with Ctrl-D\n');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    // Two more bytes for the line break that is dropped.
    if (size > maxBytes + 2) throw invalidOption(`--value-stdin: the value is larger than ${maxBytes} bytes.`, { maxBytes });
    chunks.push(buffer);
  }
  const value = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (value === '') throw invalidOption('--value-stdin: standard input was empty; pipe the value in, for example: printf \'%s\' "$DB_PASSWORD" | cuttle variables set ...', {});
  return value;
}
