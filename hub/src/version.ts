import { readFileSync } from 'node:fs';

/** The hub package's version, read from its package.json next to dist/. */
export function hubVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
