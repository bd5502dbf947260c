import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { deepMerge, deepMergeIntoYaml } from './deep-merge.js';

describe('deepMerge', () => {
  it('merges nested objects, the second one winning, arrays replaced whole', () => {
    const base = { Logging: { Level: 'Warning', Console: { Color: true } }, Hosts: ['a', 'b', 'c'], Keep: 1 };
    const over = { Logging: { Level: 'Debug', File: 'x.log' }, Hosts: ['z'], New: { A: null } };
    expect(deepMerge(base, over)).toEqual({
      Logging: { Level: 'Debug', Console: { Color: true }, File: 'x.log' },
      Hosts: ['z'],
      Keep: 1,
      New: { A: null },
    });
    expect(base.Logging.Level).toBe('Warning');
  });

  it('takes the second value whole when either side is not an object', () => {
    expect(deepMerge({ a: { b: 1 } }, { a: 'flat' })).toEqual({ a: 'flat' });
    expect(deepMerge({ a: 'flat' }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
    expect(deepMerge([1, 2], { a: 1 })).toEqual({ a: 1 });
  });

  it('keeps the base key order, adds new keys at the end, and treats __proto__ as a plain key', () => {
    const merged = deepMerge({ z: 1, a: 2 }, JSON.parse('{"a": 3, "__proto__": {"polluted": true}, "m": 4}')) as Record<string, unknown>;
    expect(Object.keys(merged)).toEqual(['z', 'a', '__proto__', 'm']);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('deepMergeIntoYaml', () => {
  it('merges into the document, keeping comments outside what it replaces', () => {
    const doc = parseDocument('# settings\nlogging:\n  level: warning # quiet\n  file: app.log\nhosts: [a, b]\nport: 80 # http\n');
    deepMergeIntoYaml(doc, { logging: { level: 'debug' }, hosts: ['z'], extra: { on: true } });
    const text = doc.toString();
    expect(doc.toJS()).toEqual({ logging: { level: 'debug', file: 'app.log' }, hosts: ['z'], port: 80, extra: { on: true } });
    expect(text).toContain('# settings');
    expect(text).toContain('port: 80 # http');
  });

  it('replaces an empty or scalar document with the override', () => {
    const empty = parseDocument('');
    deepMergeIntoYaml(empty, { a: 1 });
    expect(empty.toJS()).toEqual({ a: 1 });
    const scalar = parseDocument('just text\n');
    deepMergeIntoYaml(scalar, { a: 1 });
    expect(scalar.toJS()).toEqual({ a: 1 });
  });
});
