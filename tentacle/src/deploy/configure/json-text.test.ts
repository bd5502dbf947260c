import { describe, expect, it } from 'vitest';
import { locateJsonProblem, parseJsonFile } from './json-text.js';

describe('parseJsonFile', () => {
  it('names the file, the line and column of the problem, and never quotes the contents', () => {
    const text = '{\n  "Db": "secret-value",\n  "Port": tru\n}\n';
    expect(() => parseJsonFile(text, 'appsettings.Production.json')).toThrow(
      expect.objectContaining({ code: 'configuration-failed', message: 'appsettings.Production.json is not valid JSON (line 3, column 11): unexpected character' }),
    );
    try {
      parseJsonFile(text, 'a.json');
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-value');
    }
    // not even one character of the contents
    expect(() => parseJsonFile('{"a": Pa55word}', 'a.json')).toThrow('a.json is not valid JSON (line 1, column 7): unexpected character');
  });

  it('locates the usual mistakes', () => {
    expect(locateJsonProblem('{"a": 1,\n}')).toEqual({ offset: 9, reason: 'expected a property name in double quotes' });
    expect(locateJsonProblem('[1, 2')).toEqual({ offset: 5, reason: 'unexpected end of the file' });
    expect(locateJsonProblem('{"a" 1}')).toEqual({ offset: 5, reason: "expected ':' after a property name" });
    expect(locateJsonProblem('{"a": "x\ny"}')).toEqual({ offset: 8, reason: 'line break or control character inside a string' });
    expect(locateJsonProblem('{} {}')).toEqual({ offset: 3, reason: 'unexpected text after the end of the JSON value' });
    expect(locateJsonProblem('// comment\n{}')).toEqual({ offset: 0, reason: 'unexpected character' });
    expect(locateJsonProblem('')).toEqual({ offset: 0, reason: 'unexpected end of the file' });
  });
});
