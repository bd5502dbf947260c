import { describe, expect, it } from 'vitest';
import { assertNoCycle, expandReferences } from './references.js';

const plain = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, value]) => [k, { value, sensitive: false }]));

describe('references', () => {
  it('expands nested references and keeps escapes and unknown names as they are', () => {
    const out = expandReferences(plain({ Url: 'https://#{Host}:#{Port}/', Host: '#{Sub}.example.com', Sub: 'api', Port: '443', Doc: 'write ##{Host} literally, #{Nope} stays' }));
    expect(out.get('Url')?.value).toBe('https://api.example.com:443/');
    expect(out.get('Doc')?.value).toBe('write ##{Host} literally, #{Nope} stays');
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
});
