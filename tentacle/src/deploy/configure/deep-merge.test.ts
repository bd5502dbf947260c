import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { deepMergeIntoYaml } from './deep-merge.js';

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

  it('merges into a key that is an alias of a map: the alias target\'s keys stay, the anchor and its other aliases are unchanged', () => {
    const doc = parseDocument('defaults: &defaults\n  retries: 3\n  timeout: 30\ndb: *defaults\ncache: *defaults\n');
    deepMergeIntoYaml(doc, { db: { timeout: 60 } });
    expect(doc.toJS()).toEqual({ defaults: { retries: 3, timeout: 30 }, db: { retries: 3, timeout: 60 }, cache: { retries: 3, timeout: 30 } });
    expect(parseDocument(doc.toString()).toJS()).toEqual(doc.toJS());
    expect(doc.toString()).toContain('cache: *defaults');
  });

  it('replaces an alias whole when the override is not a map', () => {
    const doc = parseDocument('defaults: &defaults\n  retries: 3\ndb: *defaults\n');
    deepMergeIntoYaml(doc, { db: 'none' });
    expect(doc.toJS()).toEqual({ defaults: { retries: 3 }, db: 'none' });
  });
});
