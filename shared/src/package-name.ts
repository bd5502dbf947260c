import compareSemVer from 'semver/functions/compare.js';
import { CuttleError } from './errors.js';

/** The official SemVer 2.0.0 grammar (semver.org), anchored. */
const SEMVER_2 =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Letters, digits, ".", "-", "_"; starts with a letter or digit; no "..". */
const PACKAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const MAX_PACKAGE_ID_LENGTH = 100;
export const MAX_VERSION_LENGTH = 128;

export interface PackageName {
  id: string;
  version: string;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const isSafeNumber = (identifier: string): boolean => !/^\d+$/.test(identifier) || BigInt(identifier) <= MAX_SAFE;

/**
 * SemVer 2 of at most MAX_VERSION_LENGTH characters whose numeric identifiers (major, minor,
 * patch and numeric prerelease identifiers) are at most Number.MAX_SAFE_INTEGER: the `semver`
 * package throws on larger major/minor/patch and compares larger prerelease numbers as strings.
 */
export function isValidSemVer(version: string): boolean {
  if (version.length > MAX_VERSION_LENGTH) return false;
  const match = SEMVER_2.exec(version);
  if (!match) return false;
  const [, major = '', minor = '', patch = '', prerelease] = match;
  return [major, minor, patch, ...(prerelease?.split('.') ?? [])].every(isSafeNumber);
}

export function assertValidVersion(version: string): void {
  if (!isValidSemVer(version)) {
    throw new CuttleError('invalid-version', `"${version}" is not a valid SemVer 2 version (for example 1.4.0 or 2.0.0-beta.3).`, {
      version,
    });
  }
}

export function isValidPackageId(id: string): boolean {
  return id.length <= MAX_PACKAGE_ID_LENGTH && PACKAGE_ID.test(id) && !id.includes('..') && !id.endsWith('.');
}

export function assertValidPackageId(id: string): void {
  if (!isValidPackageId(id)) {
    throw new CuttleError(
      'invalid-package-id',
      `"${id}" is not a valid package id: use letters, digits, ".", "-" and "_", start with a letter or digit, no "..", at most ${MAX_PACKAGE_ID_LENGTH} characters.`,
      { id },
    );
  }
}

/**
 * Splits `<PackageId>.<SemVer>.zip`. The version is the longest suffix that parses
 * as SemVer 2, so `Acme.Web.1.4.0.zip` is `Acme.Web` 1.4.0.
 */
export function parsePackageFileName(fileName: string): PackageName {
  const invalid = (why: string) =>
    new CuttleError('invalid-package-name', `"${fileName}" is not a package file name: ${why}. Expected <PackageId>.<SemVer>.zip, for example Acme.Web.1.4.0.zip.`, {
      fileName,
    });
  if (fileName.includes('/') || fileName.includes('\\') || fileName.includes('\0')) throw invalid('it contains a path separator');
  if (!fileName.toLowerCase().endsWith('.zip')) throw invalid('it does not end in .zip');
  const stem = fileName.slice(0, -'.zip'.length);
  for (let i = stem.indexOf('.'); i !== -1; i = stem.indexOf('.', i + 1)) {
    const version = stem.slice(i + 1);
    if (!isValidSemVer(version)) continue;
    const id = stem.slice(0, i);
    if (id === '') throw invalid('the package id is empty');
    assertValidPackageId(id);
    return { id, version };
  }
  throw invalid('no SemVer 2 version found before .zip');
}

export function packageFileName(name: PackageName): string {
  return `${name.id}.${name.version}.zip`;
}

/**
 * Orders versions by SemVer precedence; equal precedence falls back to the raw string. Never throws:
 * a version `semver` cannot parse (stored before validation was tightened) sorts by raw string.
 */
export function compareVersions(a: string, b: string): number {
  let byPrecedence = 0;
  try {
    byPrecedence = compareSemVer(a, b);
  } catch {
    byPrecedence = 0;
  }
  return byPrecedence !== 0 ? byPrecedence : a < b ? -1 : a > b ? 1 : 0;
}
