import { EXIT } from '@cuttle/shared';
import { TentacleError } from '../tentacle-error.js';

/** The flags a command accepts: `string` flags take a value, `boolean` flags do not. */
export type FlagSpec = Record<string, 'string' | 'boolean'>;

export type ParsedFlags<S extends FlagSpec> = {
  [K in keyof S]?: S[K] extends 'string' ? string : boolean;
};

/**
 * Parses `--name value`, `--name=value` and `--flag`. Unknown flags, repeated flags, missing
 * values and stray arguments are usage errors (exit 2).
 */
export function parseFlags<S extends FlagSpec>(argv: readonly string[], spec: S, command: string): ParsedFlags<S> {
  const result: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw usage(command, `unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) throw usage(command, `unknown option --${name}`);
    if (Object.hasOwn(result, name)) throw usage(command, `--${name} is given twice`);
    if (kind === 'boolean') {
      if (eq !== -1) throw usage(command, `--${name} takes no value`);
      result[name] = true;
      continue;
    }
    if (eq !== -1) {
      result[name] = arg.slice(eq + 1);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw usage(command, `--${name} needs a value`);
    result[name] = value;
    i += 1;
  }
  return result as ParsedFlags<S>;
}

/** A comma-separated list: trimmed, empties dropped, duplicates removed (first wins). */
export function splitList(value: string): string[] {
  return [...new Set(value.split(',').map((item) => item.trim()).filter((item) => item !== ''))];
}

export function usage(command: string, message: string): TentacleError {
  return new TentacleError('usage', `${command}: ${message} (see cuttle-tentacle --help)`, EXIT.usage);
}
