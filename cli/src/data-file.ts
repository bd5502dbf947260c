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

/**
 * What each of the yaml package's error codes means, for files whose content must not be echoed:
 * the package's own messages quote tags, aliases and escapes from the file, and a secret written
 * unquoted (`value: *Pa55`, `value: !Pa55`) would end up in the terminal, CI logs and `--json`.
 */
const SYNTAX_PROBLEMS: Readonly<Record<string, string>> = {
  ALIAS_PROPS: 'an alias cannot have an anchor or a tag',
  BAD_ALIAS: 'an alias (a value starting with *) is not valid; quote a value that starts with *',
  BAD_DIRECTIVE: 'a % directive is not valid',
  BAD_DQ_ESCAPE: 'a double-quoted value has an invalid escape sequence',
  BAD_INDENT: 'the indentation is wrong',
  BAD_PROP_ORDER: 'anchors and tags must come after the - or ? indicator',
  BAD_SCALAR_START: 'a plain value cannot start with this character; quote it',
  BLOCK_AS_IMPLICIT_KEY: 'a block value cannot be a key',
  BLOCK_IN_FLOW: 'a block value cannot be inside [ ] or { }',
  DUPLICATE_KEY: 'a key is given twice in the same mapping',
  KEY_OVER_1024_CHARS: 'a key is longer than 1024 characters',
  MISSING_CHAR: 'a character is missing (a closing quote or bracket, a comma, or a space after ":")',
  MULTILINE_IMPLICIT_KEY: 'a key spans more than one line',
  MULTIPLE_ANCHORS: 'a value has more than one anchor',
  MULTIPLE_DOCS: 'the file holds more than one document',
  MULTIPLE_TAGS: 'a value has more than one tag',
  NON_STRING_KEY: 'a key is not a string',
  TAB_AS_INDENT: 'a tab is used for indentation; use spaces',
  TAG_RESOLVE_FAILED: 'a tag (a value starting with !) is unknown; quote a value that starts with !',
  UNEXPECTED_TOKEN: 'something unexpected is here (an unclosed bracket or quote before it?)',
  BAD_COLLECTION_TYPE: 'a tag does not fit the kind of value it is on',
};

export interface ParseOptions {
  /**
   * The file may hold secrets (variables): errors name the line, column and kind of problem but
   * never quote the file, neither as `details.source` nor through the yaml package's messages.
   */
  confidential?: boolean;
}

/** The document as plain data, or a syntax error (`code`) with its line and column. */
export function parseDataText(text: string, shown: string, code: string, options: ParseOptions = {}): unknown {
  const confidential = options.confidential === true;
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  // A byte order mark is not content.
  const source = text.replace(/^\uFEFF/, '');
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  // An unknown tag is only a warning to the yaml package, and the value it stands on becomes empty:
  // an unquoted secret starting with ! would be stored as "" without a word.
  const errors = confidential ? [...doc.errors, ...doc.warnings] : doc.errors;
  const first = errors[0];
  if (first !== undefined) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    const where = `line ${line}, column ${col}${first.pos[0] >= source.length ? ' (the end of the file)' : ''}`;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''} after it)` : '';
    const problem = confidential ? (SYNTAX_PROBLEMS[first.code] ?? 'a syntax error') : first.message;
    const details: Record<string, unknown> = { file: shown, line, column: col, reason: first.code };
    if (!confidential) details.source = (source.split(/\r?\n/)[line - 1] ?? '').slice(0, 200);
    throw fileError(code, `${shown} is not valid YAML or JSON: ${where}: ${problem}${more}`, details);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // Unresolved aliases and alias bombs surface only when the tree is built.
    const message = error instanceof Error ? error.message : String(error);
    const problem = !confidential
      ? message
      : message.startsWith('Unresolved alias')
        ? 'an alias (a value starting with *) has no anchor before it; quote a value that starts with *'
        : 'aliases expand too often or cannot be resolved';
    throw fileError(code, `${shown} cannot be read as data: ${problem}`, { file: shown });
  }
}
