import { describe, expect, it } from 'vitest';
import { SENSITIVE_MASK } from '@cuttle/shared';
import { createMasker } from './log-masker.js';

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
