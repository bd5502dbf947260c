import { describe, expect, it } from 'vitest';
import { mergeJsonText } from './json-merge.js';

const merge = (base: string, over: string): string => mergeJsonText(base, over, 'a.json', 'a.Production.json');

describe('mergeJsonText', () => {
  it('merges nested objects, the transform winning, arrays replaced whole, new keys after the base ones', () => {
    const base = JSON.stringify({ Logging: { Level: 'Warning', Console: { Color: true } }, Hosts: ['a', 'b', 'c'], Keep: 1 }, null, 2);
    const over = JSON.stringify({ Logging: { Level: 'Debug', File: 'x.log' }, Hosts: ['z'], New: { A: null } });
    const merged = merge(base, over);
    expect(JSON.parse(merged)).toEqual({ Logging: { Level: 'Debug', Console: { Color: true }, File: 'x.log' }, Hosts: ['z'], Keep: 1, New: { A: null } });
    expect(Object.keys(JSON.parse(merged) as object)).toEqual(['Logging', 'Hosts', 'Keep', 'New']);
  });

  it('keeps the base text byte for byte outside what the transform sets: exact numbers, inline arrays, layout', () => {
    const base = '{\n  "Id": 9007199254740993,\n  "Ratio": 1.50,\n  "Hosts": ["a", "b"],\n  "Db": { "Timeout": 30, "Pool": 5 }\n}\n';
    const over = '{"Db": {"Timeout": 60.0}, "Limit": 12345678901234567890}';
    expect(merge(base, over)).toBe('{\n  "Id": 9007199254740993,\n  "Ratio": 1.50,\n  "Hosts": ["a", "b"],\n  "Db": { "Timeout": 60.0, "Pool": 5 },\n  "Limit": 12345678901234567890\n}\n');
  });

  it('writes new objects laid out like the base, with CRLF and tabs, into an empty object too', () => {
    const base = '{\r\n\t"A": {},\r\n\t"B": 1\r\n}';
    const over = '{"A": {"X": [1, {"Y": 2}]}, "C": {"D": true}}';
    expect(merge(base, over)).toBe('{\r\n\t"A": {\r\n\t\t"X": [\r\n\t\t\t1,\r\n\t\t\t{\r\n\t\t\t\t"Y": 2\r\n\t\t\t}\r\n\t\t]\r\n\t},\r\n\t"B": 1,\r\n\t"C": {\r\n\t\t"D": true\r\n\t}\r\n}');
    expect(merge('{"a": 1}', '{"b": {"c": [1, 2]}}')).toBe('{"a": 1, "b": {"c": [1, 2]}}');
  });

  it('takes the transform whole when either side is not an object, and treats __proto__ as a plain key', () => {
    expect(merge('{"a": {"b": 1}}', '{"a": "flat"}')).toBe('{"a": "flat"}');
    expect(merge('{"a": "flat"}', '{"a": {"b": 1}}')).toBe('{"a": {"b": 1}}');
    expect(merge('[1, 2]\n', '{"a": 1}')).toBe('{"a": 1}\n');
    const merged = merge('{"z": 1, "a": 2}', '{"a": 3, "__proto__": {"polluted": true}, "m": 4}');
    expect(merged).toBe('{"z": 1, "a": 3, "__proto__": {"polluted": true}, "m": 4}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads duplicate keys as JSON.parse does: the last one counts', () => {
    expect(merge('{"a": 1, "a": 2}', '{"a": 3, "b": 1, "b": 2}')).toBe('{"a": 1, "a": 3, "b": 2}');
  });

  it('refuses comments and trailing commas, naming the line and column', () => {
    expect(() => merge('{\n  // note\n  "a": 1\n}', '{}')).toThrow('a.json is not valid JSON (line 2, column 3): expected a property name in double quotes');
    expect(() => merge('{"a": 1}', '{"a": 2,}')).toThrow('a.Production.json is not valid JSON (line 1, column 9): expected a property name in double quotes');
  });
});
