import { describe, expect, it } from 'vitest';
import { SENSITIVE_MASK } from '@cuttle/shared';
import { createMasker, yamlDoubleQuoted } from './log-masker.js';

describe('log masking', () => {
  it('masks every occurrence, the longest secret first, and leaves values shorter than 3 characters', () => {
    const mask = createMasker(['pass', 'password1', 'ab', 'a.b*c']);
    expect(mask('user password1 pass pass a.b*c axbxc ab')).toBe(`user ${SENSITIVE_MASK} ${SENSITIVE_MASK} ${SENSITIVE_MASK} ${SENSITIVE_MASK} axbxc ab`);
  });

  it('works per line: a secret split across two lines is not recognised', () => {
    const mask = createMasker(['hunter22']);
    expect(['hun', 'ter22'].map(mask)).toEqual(['hun', 'ter22']);
    expect(createMasker([])('anything')).toBe('anything');
  });
});

describe('log masking of escaped secrets', () => {
  it('masks a secret as it appears inside a JSON string and a YAML double-quoted scalar', () => {
    const secret = 'p"w\\d\tx';
    const mask = createMasker([secret]);
    const json = JSON.stringify({ password: secret });
    expect(mask(json)).toBe(`{"password":"${SENSITIVE_MASK}"}`);
    expect(mask(`password: "p\\"w\\\\d\\tx"`)).toBe(`password: "${SENSITIVE_MASK}"`);
    expect(mask(`raw ${secret}`)).toBe(`raw ${SENSITIVE_MASK}`);
    // YAML's own escapes differ from JSON's
    expect(yamlDoubleQuoted('a\x1bb\x85c\x01')).toBe('a\\eb\\Nc\\x01');
    expect(createMasker(['bell\x07!'])('x: "bell\\a!"')).toBe(`x: "${SENSITIVE_MASK}"`);
    expect(createMasker(['bell\x07!'])('{"x":"bell\\u0007!"}')).toBe(`{"x":"${SENSITIVE_MASK}"}`);
  });
});
