import { describe, expect, it } from 'vitest';
import { parseFlags, splitList } from './args.js';

const SPEC = { home: 'string', force: 'boolean' } as const;

describe('parseFlags', () => {
  it('reads --name value, --name=value and boolean flags', () => {
    expect(parseFlags(['--home', '/a', '--force'], SPEC, 'x')).toEqual({ home: '/a', force: true });
    expect(parseFlags(['--home=/b'], SPEC, 'x')).toEqual({ home: '/b' });
  });

  it.each([
    [['--nope'], /unknown option --nope/],
    [['--home'], /--home needs a value/],
    [['--home', '--force'], /--home needs a value/],
    [['--home', 'a', '--home', 'b'], /given twice/],
    [['--force=yes'], /takes no value/],
    [['stray'], /unexpected argument/],
    [['--constructor', 'x'], /unknown option/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseFlags(argv, SPEC, 'x')).toThrow(message);
  });

  it('splits lists, trimming and dropping empties and duplicates', () => {
    expect(splitList(' web, db,,web ')).toEqual(['web', 'db']);
  });
});
