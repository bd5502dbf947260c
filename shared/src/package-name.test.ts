import { describe, expect, it } from 'vitest';
import { CuttleError } from './errors.js';
import { compareVersions, isValidPackageId, isValidSemVer, packageFileName, parsePackageFileName } from './package-name.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof CuttleError ? error.code : 'not-a-cuttle-error';
  }
  return undefined;
}

describe('parsePackageFileName', () => {
  it.each([
    ['Acme.Web.1.4.0.zip', 'Acme.Web', '1.4.0'],
    ['payments-api.2.0.0-beta.3.zip', 'payments-api', '2.0.0-beta.3'],
    ['Acme.1.2.3.4.zip', 'Acme.1', '2.3.4'],
    ['tool_x.10.20.30+build.7.zip', 'tool_x', '10.20.30+build.7'],
    ['a.0.0.0-rc.1.ZIP', 'a', '0.0.0-rc.1'],
    ['Acme.Web.1.0.0-alpha.1.2.zip', 'Acme.Web', '1.0.0-alpha.1.2'],
  ])('splits %s into id %s and version %s (longest SemVer suffix)', (file, id, version) => {
    expect(parsePackageFileName(file)).toEqual({ id, version });
  });

  it.each([
    ['Acme.Web.zip', 'invalid-package-name'],
    ['Acme.Web.1.4.zip', 'invalid-package-name'],
    ['Acme.Web.01.4.0.zip', 'invalid-package-name'],
    ['Acme.Web.1.4.0.tar.gz', 'invalid-package-name'],
    ['1.4.0.zip', 'invalid-package-name'],
    ['.1.4.0.zip', 'invalid-package-name'],
    ['dir/Acme.1.0.0.zip', 'invalid-package-name'],
    ['..\\Acme.1.0.0.zip', 'invalid-package-name'],
    ['Acme..Web.1.0.0.zip', 'invalid-package-id'],
    ['-Acme.1.0.0.zip', 'invalid-package-id'],
    ['Acme Web.1.0.0.zip', 'invalid-package-id'],
    ['Acme$.1.0.0.zip', 'invalid-package-id'],
    [`${'a'.repeat(101)}.1.0.0.zip`, 'invalid-package-id'],
  ])('refuses %s with %s', (file, code) => {
    expect(codeOf(() => parsePackageFileName(file))).toBe(code);
  });

  it('round-trips with packageFileName', () => {
    expect(packageFileName(parsePackageFileName('Acme.Web.1.4.0-rc.2.zip'))).toBe('Acme.Web.1.4.0-rc.2.zip');
  });
});

describe('SemVer and ids', () => {
  it('accepts SemVer 2 and refuses near misses', () => {
    expect(['1.0.0', '0.0.1-alpha', '1.0.0-x.7.z.92', '1.0.0+20130313144700', '1.0.0-beta+exp.sha.5114f85'].every(isValidSemVer)).toBe(true);
    expect(['1.0', 'v1.0.0', '1.0.0-', '1.0.0-01', '01.0.0', '1.0.0+', '1.0.0 ', ''].some(isValidSemVer)).toBe(false);
  });

  it('refuses numeric identifiers above Number.MAX_SAFE_INTEGER', () => {
    const max = String(Number.MAX_SAFE_INTEGER); // 9007199254740991
    expect([`${max}.0.0`, `0.${max}.0`, `0.0.${max}`, `1.0.0-${max}`, `1.0.0-rc.${max}`, '1.0.0+99999999999999999999', '1.0.0-99999999999999999999x'].every(isValidSemVer)).toBe(true);
    expect(
      ['9007199254740992.0.0', `0.99999999999999999999.0`, `0.0.9007199254740992`, '1.0.0-9007199254740992', '1.0.0-rc.99999999999999999999', '1.0.0-a.1.99999999999999999999+b'].some(
        isValidSemVer,
      ),
    ).toBe(false);
    expect(() => parsePackageFileName('Acme.99999999999999999999.0.0.zip')).toThrow(/no SemVer 2 version/);
  });

  it('compares versions semver cannot parse without throwing', () => {
    const huge = '99999999999999999999.0.0';
    expect(() => compareVersions(huge, '1.0.0')).not.toThrow();
    expect(compareVersions(huge, '1.0.0')).toBe(huge < '1.0.0' ? -1 : 1);
    expect(compareVersions('not-a-version', 'not-a-version')).toBe(0);
    expect(['b', huge, '1.0.0', 'a'].sort(compareVersions)).toHaveLength(4);
    expect(compareVersions('1.0.0-rc.9007199254740991', '1.0.0-rc.10')).toBe(1);
  });

  it('accepts ids of letters, digits, dot, dash, underscore only', () => {
    expect(isValidPackageId('Acme.Web_2-x')).toBe(true);
    expect(['a/b', 'a..b', '.a', 'a.', '', 'a\0b', 'ä'].some(isValidPackageId)).toBe(false);
  });

  it('orders versions by SemVer precedence', () => {
    const sorted = ['1.10.0', '1.2.0', '1.2.0-beta.2', '1.2.0-beta.10', '0.9.9'].sort(compareVersions);
    expect(sorted).toEqual(['0.9.9', '1.2.0-beta.2', '1.2.0-beta.10', '1.2.0', '1.10.0']);
  });
});
