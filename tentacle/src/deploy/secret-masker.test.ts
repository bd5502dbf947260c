import { describe, expect, it } from 'vitest';
import { SENSITIVE_MASK } from '@cuttle/shared';
import { secretMasker } from './secret-masker.js';

const masker = (...values: string[]) => secretMasker(values.map((value, i) => ({ name: `S${i}`, value, sensitive: true })));

describe('secretMasker', () => {
  it('masks every occurrence of each sensitive value, longest first, and leaves other values alone', () => {
    const mask = secretMasker([
      { name: 'Short', value: 'abc', sensitive: true },
      { name: 'Long', value: 'abcdef', sensitive: true },
      { name: 'Plain', value: 'visible', sensitive: false },
      { name: 'Tiny', value: 'xy', sensitive: true },
    ]).mask;
    expect(mask('abcdef abc visible xy abcabc')).toBe(`${SENSITIVE_MASK} ${SENSITIVE_MASK} visible xy ${SENSITIVE_MASK}${SENSITIVE_MASK}`);
  });

  it('masks each line of a multi-line secret on its own', () => {
    const mask = secretMasker([{ name: 'Key', value: '-----BEGIN KEY-----\r\nMIIBsecretbody\n-----END KEY-----', sensitive: true }]).mask;
    expect(mask('line: MIIBsecretbody')).toBe(`line: ${SENSITIVE_MASK}`);
  });

  it('is the identity without sensitive variables', () => {
    expect(secretMasker(undefined).mask('abc')).toBe('abc');
    expect(secretMasker(undefined).maskLine('abcdef', 4)).toBe('abc…');
  });

  it('masks the JSON- and YAML-escaped forms of a secret as well as the secret itself', () => {
    const { mask } = masker('Pa"55\\word', 'tab\tsecret', 'ctl\u0001x');
    expect(mask('json: {"pw": "Pa\\"55\\\\word"}')).toBe(`json: {"pw": "${SENSITIVE_MASK}"}`);
    expect(mask('raw: Pa"55\\word')).toBe(`raw: ${SENSITIVE_MASK}`);
    expect(mask('tab: tab\\tsecret')).toBe(`tab: ${SENSITIVE_MASK}`);
    // JSON writes U+0001 as \u0001, YAML as \x01
    expect(mask('a: "ctl\\u0001x" b: "ctl\\x01x"')).toBe(`a: "${SENSITIVE_MASK}" b: "${SENSITIVE_MASK}"`);
  });

  it('masks many secrets in one pass, a longer one whole even when a shorter one is part of it', () => {
    const values = Array.from({ length: 1000 }, (_, i) => `secret-${i}-value`);
    const { mask } = masker(...values, 'secret-1-value-and-more');
    expect(mask('x secret-999-value y secret-1-value-and-more z secret-10-value')).toBe(`x ${SENSITIVE_MASK} y ${SENSITIVE_MASK} z ${SENSITIVE_MASK}`);
  });

  it('masks a line before cutting it: a secret across the cut leaves no part of itself', () => {
    const m = masker('Pa55word-XY');
    expect(m.reach).toBe('Pa55word-XY'.length);
    const line = `${'x'.repeat(8)}Pa55word-XY and more`;
    const cut = m.maskLine(line, 10);
    expect(cut).toBe(`xxxxxxxx${SENSITIVE_MASK.slice(0, 1)}…`);
    expect(cut).not.toMatch(/Pa5/);
    // text read only to the cut plus the longest secret is enough to mask what starts before the cut
    expect(m.maskLine(line.slice(0, 10 + m.reach), 10)).toBe(cut);
    // masking can shorten the line below the cut: what lies past the cut is still dropped, with an ellipsis
    expect(masker('y'.repeat(30)).maskLine(`a${'y'.repeat(30)}${'b'.repeat(40)}`, 20)).toBe(`a${SENSITIVE_MASK}…`);
    expect(masker('y'.repeat(30)).maskLine(`${'b'.repeat(13)}${'y'.repeat(30)}`, 20)).toBe(`${'b'.repeat(13)}${SENSITIVE_MASK.slice(0, 6)}…`);
    expect(m.maskLine('short Pa55word-XY', 100)).toBe(`short ${SENSITIVE_MASK}`);
  });
});
