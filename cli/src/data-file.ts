import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { EXIT, errorCodeOf } from '@cuttle/shared';
import { CliError } from './cli-error.js';

/**
 * Reading YAML (or JSON: JSON is YAML 1.2) files named on the command line (`project apply -f`,
 * `variables import -f`). Every failure here exits 2; `code` names the caller's error code for a
 * file that is too large or not YAML/JSON.
 */

/** Anchors and aliases expand; this caps how often (the yaml package's own default). */
const MAX_ALIAS_COUNT = 100;

export interface DataFileLimits {
  /** Error code for a file too large or not parseable (`invalid-project-file`, `invalid-variables-file`). */
  code: string;
  maxBytes: number;
  /** What the file holds, for "a project definition is much smaller". */
  holds: string;
}

function fileError(code: string, message: string, details: Record<string, unknown>): CliError {
  return new CliError(code, message, { exitCode: EXIT.usage, details });
}

/** Reads the file's text: `file-not-found`, `invalid-path`, or too large (all exit 2). */
export async function readDataText(absPath: string, shown: string, limits: DataFileLimits): Promise<string> {
  try {
    const stats = await stat(absPath);
    if (!stats.isFile()) throw new CliError('invalid-path', `${shown} is not a file`, { exitCode: EXIT.usage, details: { path: shown } });
    if (stats.size > limits.maxBytes) {
      throw fileError(limits.code, `${shown} is larger than ${limits.maxBytes} bytes; ${limits.holds} is much smaller`, { file: shown, size: stats.size });
    }
    return await readFile(absPath, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    const missing = errorCodeOf(error) === 'ENOENT';
    throw new CliError(missing ? 'file-not-found' : 'invalid-path', missing ? `${shown} does not exist` : `${shown} cannot be read: ${error instanceof Error ? error.message : String(error)}`, {
      exitCode: EXIT.usage,
      details: { path: shown },
    });
  }
}

/**
 * The yaml package, loaded on first use: it costs a few hundred milliseconds of start-up that
 * commands without a file (push, deploy in CI) should not pay.
 */
let yamlModule: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}

/** The document as plain data, or a syntax error (`code`) with its line and column. */
export function parseDataText(text: string, shown: string, code: string): unknown {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  // A byte order mark is not content.
  const source = text.replace(/^\uFEFF/, '');
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    const where = `line ${line}, column ${col}${first.pos[0] >= source.length ? ' (the end of the file)' : ''}`;
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more problem${doc.errors.length > 2 ? 's' : ''} after it)` : '';
    const sourceLine = source.split(/\r?\n/)[line - 1] ?? '';
    throw fileError(code, `${shown} is not valid YAML or JSON: ${where}: ${first.message}${more}`, {
      file: shown,
      line,
      column: col,
      reason: first.code,
      source: sourceLine.slice(0, 200),
    });
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // Unresolved aliases and alias bombs surface only when the tree is built.
    throw fileError(code, `${shown} cannot be read as data: ${error instanceof Error ? error.message : String(error)}`, { file: shown });
  }
}
