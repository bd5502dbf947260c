import { describe, expect, it } from 'vitest';
import { substituteText } from './substitute.js';

const values = new Map([
  ['Db.Host', 'db-test'],
  ['Db.Password', 'p@ss'],
  ['Logging:Level', 'Debug'],
  ['Nested', 'keeps #{Db.Host} as written'],
]);

describe('substituteText', () => {
  it('replaces several names on one line and counts each use', () => {
    const result = substituteText('Server=#{Db.Host};Password=#{Db.Password};Again=#{Db.Host}\nlevel: #{Logging:Level}\n', values);
    expect(result.text).toBe('Server=db-test;Password=p@ss;Again=db-test\nlevel: Debug\n');
    expect([...result.replaced]).toEqual([
      ['Db.Host', 2],
      ['Db.Password', 1],
      ['Logging:Level', 1],
    ]);
    expect(result.unknown).toEqual([]);
  });

  it('writes ##{Name} as a literal #{Name}, known or not, and does not count it as a use', () => {
    const result = substituteText('a ##{Db.Host} b ##{Nope} c #{Db.Host} d ###{Db.Host}', values);
    expect(result.text).toBe('a #{Db.Host} b #{Nope} c db-test d ##{Db.Host}');
    expect(result.escapes).toBe(3);
    expect(result.unknown).toEqual([]);
    expect(result.replaced.get('Db.Host')).toBe(1);
  });

  it('leaves an unknown name as it is and reports it once', () => {
    const result = substituteText('#{Missing} and #{Missing} and #{Other}', values);
    expect(result.text).toBe('#{Missing} and #{Missing} and #{Other}');
    expect(result.unknown).toEqual(['Missing', 'Other']);
    expect(result.replaced.size).toBe(0);
  });

  it('inserts values as they are: a value holding #{...} is not substituted again', () => {
    expect(substituteText('x=#{Nested}', values).text).toBe('x=keeps #{Db.Host} as written');
  });

  it('ignores what is not a token: no braces, an empty name, characters outside variable names', () => {
    const text = '# comment, #{} and #{has space} and #{a/b} and {Db.Host}';
    expect(substituteText(text, values)).toMatchObject({ text, unknown: [], escapes: 0 });
  });

  it('inserts a value containing $ sequences literally', () => {
    expect(substituteText('#{X}', new Map([['X', "$& $1 $$ $'"]])).text).toBe("$& $1 $$ $'");
  });
});
