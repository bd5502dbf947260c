import { describe, expect, it } from 'vitest';
import { assertNoCycle, expandReferences, MAX_EXPANDED_VALUE_LENGTH, unescapeReferences } from './references.js';

const plain = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, value]) => [k, { value, sensitive: false }]));

describe('references', () => {
  it('expands nested references and keeps escapes and unknown names as they are', () => {
    const { values: out, unresolved } = expandReferences(
      plain({ Url: 'https://#{Host}:#{Port}/', Host: '#{Sub}.example.com', Sub: 'api', Port: '443', Doc: 'write ##{Host} literally, #{Nope} stays' }),
    );
    expect(out.get('Url')?.value).toBe('https://api.example.com:443/');
    expect(out.get('Doc')?.value).toBe('write ##{Host} literally, #{Nope} stays');
    expect([...out.keys()]).toEqual(['Url', 'Host', 'Sub', 'Port', 'Doc']);
    expect(unresolved).toEqual([{ name: 'Doc', reference: 'Nope' }]);
  });

  it('refuses cycles, self-references included, naming the chain', () => {
    expect(() => expandReferences(plain({ A: '#{A}' }))).toThrow(expect.objectContaining({ code: 'variable-cycle' }));
    expect(() => assertNoCycle([{ name: 'A', value: '#{B}' }, { name: 'B', value: '#{C}' }, { name: 'C', value: 'x #{A}' }])).toThrow(
      expect.objectContaining({ code: 'variable-cycle', details: expect.objectContaining({ cycle: ['A', 'B', 'C', 'A'] }) }),
    );
  });

  it('checks every value of a name whatever its scope, and ignores escapes and unknown names', () => {
    // A's second value (another scope) closes the cycle
    expect(() => assertNoCycle([{ name: 'A', value: 'plain' }, { name: 'B', value: '#{A}' }, { name: 'A', value: '#{B}' }])).toThrow(
      expect.objectContaining({ code: 'variable-cycle' }),
    );
    expect(() => assertNoCycle([{ name: 'A', value: '##{A} #{Unknown}' }, { name: 'B', value: '#{A}' }])).not.toThrow();
  });

  it('turns each escape into a literal reference once', () => {
    expect(unescapeReferences('a ##{Host} b ###{X} #{Y} ##{bad name}')).toBe('a #{Host} b ##{X} #{Y} ##{bad name}');
  });

  it('follows a chain of thousands of references without running out of stack', () => {
    const chain = new Map<string, { value: string; sensitive: boolean }>();
    for (let i = 0; i < 5000; i++) chain.set(`V${i}`, { value: i === 4999 ? 'end' : `#{V${i + 1}}`, sensitive: false });
    expect(expandReferences(chain).values.get('V0')?.value).toBe('end');
    expect(() => assertNoCycle([...chain].map(([name, { value }]) => ({ name, value })))).not.toThrow();
    const cyclic = [...chain].map(([name, { value }]) => ({ name, value: name === 'V4999' ? '#{V0}' : value }));
    expect(() => assertNoCycle(cyclic)).toThrow(expect.objectContaining({ code: 'variable-cycle' }));
  });

  it('refuses values that double at each link before building them, at save and when expanding', () => {
    const doubling = [{ name: 'D0', value: 'xxxxxxxx' }];
    for (let i = 1; i <= 32; i++) doubling.push({ name: `D${i}`, value: `#{D${i - 1}}#{D${i - 1}}` });
    const tooLong = expect.objectContaining({ code: 'invalid-request', details: expect.objectContaining({ name: 'D18', limit: MAX_EXPANDED_VALUE_LENGTH }) });
    expect(() => assertNoCycle(doubling)).toThrow(tooLong);
    expect(() => expandReferences(new Map(doubling.map((d) => [d.name, { value: d.value, sensitive: false }])))).toThrow(tooLong);
    expect(() => assertNoCycle(doubling.slice(0, 18))).not.toThrow();
  });
});
