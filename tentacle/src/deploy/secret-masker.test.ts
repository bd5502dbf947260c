import { describe, expect, it } from 'vitest';
import { SENSITIVE_MASK } from '@cuttle/shared';
import { secretMasker } from './secret-masker.js';

describe('secretMasker', () => {
  it('masks every occurrence of each sensitive value, longest first, and leaves other values alone', () => {
    const mask = secretMasker([
      { name: 'Short', value: 'abc', sensitive: true },
      { name: 'Long', value: 'abcdef', sensitive: true },
      { name: 'Plain', value: 'visible', sensitive: false },
      { name: 'Tiny', value: 'xy', sensitive: true },
    ]);
    expect(mask('abcdef abc visible xy abcabc')).toBe(`${SENSITIVE_MASK} ${SENSITIVE_MASK} visible xy ${SENSITIVE_MASK}${SENSITIVE_MASK}`);
  });

  it('masks each line of a multi-line secret on its own', () => {
    const mask = secretMasker([{ name: 'Key', value: '-----BEGIN KEY-----\r\nMIIBsecretbody\n-----END KEY-----', sensitive: true }]);
    expect(mask('line: MIIBsecretbody')).toBe(`line: ${SENSITIVE_MASK}`);
  });

  it('is the identity without sensitive variables', () => {
    expect(secretMasker(undefined)('abc')).toBe('abc');
  });
});
