import path from 'node:path';

/** `appsettings.Production.json`: a file that transforms `appsettings.json` for one environment. */
export interface TransformFile {
  /** the transform file, relative to the release root */
  file: string;
  /** the file it transforms, beside it */
  base: string;
  /** the environment, as the job names it */
  environment: string;
}

export type TransformKind = 'json' | 'yaml' | 'replace';

/** How a transform applies: JSON and YAML are merged, anything else replaces the base. */
export function transformKind(file: string): TransformKind {
  const ext = path.posix.extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return 'replace';
}

/**
 * The transform files among `files`: `<stem>.<Environment>.<ext>` for any of `environments`
 * (compared case-insensitively) with `<stem>.<ext>` beside it. When a name fits several
 * environments (`Web.Prod` and `Prod`), the longest whose base exists wins.
 */
export function findTransformFiles(files: readonly string[], environments: readonly string[]): TransformFile[] {
  const present = new Set(files);
  const byLength = [...new Set(environments)].sort((a, b) => b.length - a.length);
  const found: TransformFile[] = [];
  for (const file of files) {
    const dir = path.posix.dirname(file);
    const name = path.posix.basename(file);
    const dot = name.lastIndexOf('.');
    if (dot <= 0) continue;
    const ext = name.slice(dot);
    const rest = name.slice(0, dot).toLowerCase();
    for (const environment of byLength) {
      if (!rest.endsWith(`.${environment.toLowerCase()}`)) continue;
      const stem = name.slice(0, dot - environment.length - 1);
      if (stem === '') continue;
      const base = dir === '.' ? `${stem}${ext}` : `${dir}/${stem}${ext}`;
      if (!present.has(base)) continue;
      found.push({ file, base, environment });
      break;
    }
  }
  return found;
}

export function sameEnvironment(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
