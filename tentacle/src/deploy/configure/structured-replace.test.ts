import { parseAllDocuments, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { JobFailure } from '../job-failure.js';
import { replaceInJson, replaceInYaml, typedValue } from './structured-replace.js';

const vars = (entries: Record<string, string>) => Object.entries(entries).map(([name, value]) => ({ name, value }));

describe('typedValue', () => {
  it('keeps the type of the value it replaces when the variable parses as that type, else a string', () => {
    expect(typedValue(80, '8080')).toBe(8080);
    expect(typedValue(80, 'eighty')).toBe('eighty');
    expect(typedValue(80, 'true')).toBe('true');
    expect(typedValue(false, 'true')).toBe(true);
    expect(typedValue(null, 'null')).toBeNull();
    expect(typedValue(null, '5')).toBe('5');
    expect(typedValue('text', '5')).toBe('5');
    expect(typedValue(undefined, '5')).toBe('5');
    expect(typedValue(['a'], '["x","y"]')).toEqual(['x', 'y']);
    expect(typedValue(['a'], '{"x":1}')).toBe('{"x":1}');
    expect(typedValue({ a: 1 }, '{"b":2}')).toEqual({ b: 2 });
    expect(typedValue({ a: 1 }, '[1]')).toBe('[1]');
  });
});

describe('replaceInJson', () => {
  const json = (value: unknown): string => JSON.stringify(value, null, 2);

  it('sets nested keys and array items by index, keeping types, and adds a key to an existing parent', () => {
    const root = { Logging: { LogLevel: { Default: 'Warning' } }, Port: 80, Tls: false, Servers: [{ Name: 'a' }, { Name: 'b' }], Db: { Retries: 3 } };
    const result = replaceInJson(
      json(root),
      vars({ 'Logging:LogLevel:Default': 'Debug', Port: '8080', Tls: 'true', 'Servers:1:Name': 'web-02', 'Db:Timeout': '30', 'Db:Retries': 'many' }),
      'appsettings.json',
    );
    expect(JSON.parse(result.text)).toEqual({
      Logging: { LogLevel: { Default: 'Debug' } },
      Port: 8080,
      Tls: true,
      Servers: [{ Name: 'a' }, { Name: 'web-02' }],
      Db: { Retries: 'many', Timeout: '30' },
    });
    expect(result.set.sort()).toEqual(['Db:Retries', 'Db:Timeout', 'Logging:LogLevel:Default', 'Port', 'Servers:1:Name', 'Tls']);
    expect(result.skipped).toEqual([]);
  });

  it('edits the text in place: numbers as written, inline arrays, layout and line endings elsewhere stay; a number is written as the variable spells it', () => {
    const text = '{\r\n    "Id": 9007199254740993,\r\n    "Ratio": 1.50,\r\n    "Hosts": ["a", "b"],\r\n    "Limits": {"Max": 1e3},\r\n    "Port": 80\r\n}';
    const result = replaceInJson(text, vars({ Port: '8080', 'Limits:Min': '1', Ratio: '2.50', Big: 'x' }), 'a.json');
    expect(result.text).toBe('{\r\n    "Id": 9007199254740993,\r\n    "Ratio": 2.50,\r\n    "Hosts": ["a", "b"],\r\n    "Limits": {"Max": 1e3, "Min": "1"},\r\n    "Port": 8080\r\n}');
  });

  it('writes an object or array value laid out like the file around it, its numbers exact', () => {
    const text = '{\n  "Db": {\n    "Hosts": ["a"],\n    "Pool": 1\n  }\n}\n';
    const result = replaceInJson(text, vars({ 'Db:Hosts': '["x", 12345678901234567890]', 'Db:Pool': '2', 'Db:Extra': 'e' }), 'a.json');
    expect(result.text).toBe('{\n  "Db": {\n    "Hosts": ["x", 12345678901234567890],\n    "Pool": 2,\n    "Extra": "e"\n  }\n}\n');
    const nested = replaceInJson(text, vars({ Db: '{"A": {"B": [1, 2]}, "C": {}}' }), 'a.json');
    expect(nested.text).toBe('{\n  "Db": {\n    "A": {\n      "B": [\n        1,\n        2\n      ]\n    },\n    "C": {}\n  }\n}\n');
  });

  it('ignores variables whose first segment the file does not have, and reports a missing key further down', () => {
    const text = json({ Logging: { Level: 'x' } });
    const result = replaceInJson(text, vars({ 'Cuttle.Project.Name': 'shop', 'Other:Key': 'v', Missing: 'v', 'Logging:Nope:Deeper': 'v' }), 'a.json');
    expect(result.text).toBe(text);
    expect(result.set).toEqual([]);
    expect(result.skipped).toEqual(['Logging:Nope:Deeper (Logging:Nope does not exist)']);
  });

  it('fails configuration-failed for a path whose parent is a scalar, naming the file and the path', () => {
    let failure: unknown;
    try {
      replaceInJson(json({ Logging: { Level: 'Warning' } }), vars({ 'Logging:Level:X': 'v' }), 'appsettings.json');
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(JobFailure);
    expect(failure).toMatchObject({ code: 'configuration-failed', message: 'appsettings.json: cannot set Logging:Level:X: Logging:Level is a string, not an object or array' });
  });

  it('fails for a non-index segment into an array, and skips an index out of range', () => {
    expect(() => replaceInJson(json({ Hosts: ['a'] }), vars({ 'Hosts:first': 'x' }), 'h.json')).toThrow('h.json: cannot set Hosts:first: Hosts is an array and "first" is not an index');
    const result = replaceInJson(json({ Hosts: ['a'] }), vars({ 'Hosts:5': 'x' }), 'h.json');
    expect(JSON.parse(result.text)).toEqual({ Hosts: ['a'] });
    expect(result.skipped).toEqual(['Hosts:5 (index 5 of Hosts does not exist)']);
  });

  it('applies shorter paths first, so that a deeper variable is not undone', () => {
    const result = replaceInJson(json({ A: { B: 1 } }), vars({ 'A:B': '2', A: '{"B": 0, "C": 1}' }), 'x.json');
    expect(JSON.parse(result.text)).toEqual({ A: { B: 2, C: 1 } });
  });

  it('sets a key named __proto__ as a plain key', () => {
    const result = replaceInJson('{"__proto__": {"a": 1}}', vars({ '__proto__:a': '2' }), 'p.json');
    expect(result.text).toBe('{"__proto__": {"a": 2}}');
  });
});

describe('replaceInYaml', () => {
  it('sets key paths in a YAML document with types kept and comments left in place', () => {
    const doc = parseDocument('# app\nlogging:\n  level: warning # the default\nport: 80\nhosts:\n  - a\n  - b\nenabled: false\n');
    const result = replaceInYaml(doc, vars({ 'logging:level': 'debug', port: '8080', 'hosts:0': 'web-01', enabled: 'yes' }), 'config.yaml');
    expect(result.set.sort()).toEqual(['enabled', 'hosts:0', 'logging:level', 'port']);
    expect(doc.toJS()).toEqual({ logging: { level: 'debug' }, port: 8080, hosts: ['web-01', 'b'], enabled: 'yes' });
    const text = doc.toString();
    expect(text).toContain('# app');
    expect(text).toContain('level: debug # the default');
  });

  it('quotes a string that would otherwise read back as another type', () => {
    const doc = parseDocument('version: "1.0"\nname: shop\n');
    replaceInYaml(doc, vars({ name: '123', version: 'true' }), 'c.yaml');
    expect(parseDocument(doc.toString()).toJS()).toEqual({ version: 'true', name: '123' });
  });

  it('fails for a path into a scalar and works through every document of a multi-document file', () => {
    expect(() => replaceInYaml(parseDocument('a:\n  b: 1\n'), vars({ 'a:b:c': 'x' }), 'c.yaml')).toThrow('c.yaml: cannot set a:b:c: a:b is a number, not an object or array');
    const docs = parseAllDocuments('kind: A\nreplicas: 1\n---\nkind: B\nreplicas: 2\n');
    if (!Array.isArray(docs)) throw new Error('expected documents');
    for (const doc of docs) replaceInYaml(doc, vars({ replicas: '3' }), 'k.yaml');
    expect(docs.map((d) => d.toJS())).toEqual([
      { kind: 'A', replicas: 3 },
      { kind: 'B', replicas: 3 },
    ]);
  });
});
