import { parseAllDocuments, parseDocument, visit, type Document, type ErrorCode } from 'yaml';
import { JobFailure } from '../job-failure.js';
import { describePosition } from './text-position.js';

/** Options for every YAML file of a release: errors without excerpts of the contents, unique keys. */
const OPTIONS = { prettyErrors: false, uniqueKeys: true } as const;

/**
 * Why a YAML file is refused, by the parser's error code. The parser's own messages can quote the
 * document (an alias or tag name, a scalar), which may hold a substituted secret: they never reach
 * the task log.
 */
const REASONS: Partial<Record<ErrorCode, string>> = {
  BAD_ALIAS: 'invalid alias',
  BAD_DQ_ESCAPE: 'invalid escape in a double-quoted string',
  BAD_INDENT: 'bad indentation',
  BLOCK_IN_FLOW: 'block collection inside a flow collection',
  DUPLICATE_KEY: 'duplicate key',
  KEY_OVER_1024_CHARS: 'implicit key longer than 1024 characters',
  MISSING_CHAR: 'missing character (an unclosed quote or bracket?)',
  MULTILINE_IMPLICIT_KEY: 'implicit key over several lines',
  MULTIPLE_ANCHORS: 'more than one anchor on a node',
  MULTIPLE_TAGS: 'more than one tag on a node',
  TAB_AS_INDENT: 'tab used as indentation',
  TAG_RESOLVE_FAILED: 'unknown tag',
  UNEXPECTED_TOKEN: 'unexpected token',
};

function failure(file: string, text: string, offset: number | undefined, reason: string): JobFailure {
  const where = offset === undefined ? '' : ` (${describePosition(text, offset)})`;
  return new JobFailure('configuration-failed', `${file} is not valid YAML${where}: ${reason}`);
}

/**
 * The documents of a YAML file (none for an empty one), kept as documents so that the comments and
 * layout of what is not changed survive. A syntax error, or an alias without an anchor before it,
 * names the file, its line and column and a reason, never text of the file.
 */
export function parseYamlFile(text: string, file: string): Document[] {
  const parsed = parseAllDocuments(text, OPTIONS);
  const documents: Document[] = Array.isArray(parsed) ? parsed : [];
  for (const doc of documents) {
    const error = doc.errors[0];
    if (error !== undefined) throw failure(file, text, error.pos[0], REASONS[error.code] ?? `syntax error (${error.code})`);
    visit(doc, {
      Alias(_, alias) {
        if (alias.resolve(doc) === undefined) throw failure(file, text, alias.range?.[0], 'an alias names no anchor defined before it');
      },
    });
  }
  return documents;
}

/**
 * A document's data, with a failure that names only the file when it cannot be built (an alias
 * before its anchor, aliases that expand too far).
 */
export function yamlToJs(doc: Document, file: string): unknown {
  try {
    return doc.toJS();
  } catch {
    throw new JobFailure('configuration-failed', `${file} cannot be read as YAML data: its aliases expand too far or cannot be resolved`);
  }
}

/** The single document of a YAML file (an empty file is one empty document). */
export function parseSingleYamlFile(text: string, file: string): Document {
  const documents = parseYamlFile(text, file);
  if (documents.length > 1) throw new JobFailure('configuration-failed', `${file} holds ${documents.length} YAML documents; an environment transform needs exactly one`);
  return documents[0] ?? parseDocument('', OPTIONS);
}

/** The documents written back as one file. */
export function formatYamlDocuments(documents: readonly Document[]): string {
  return documents
    .map((doc, index) => {
      const text = doc.toString();
      // a later document needs its `---` marker, whether or not the source had one
      return index > 0 && !text.startsWith('---') ? `---\n${text}` : text;
    })
    .join('');
}
