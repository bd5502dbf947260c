import { parseAllDocuments, parseDocument, type Document } from 'yaml';
import { JobFailure } from '../job-failure.js';
import { describePosition } from './text-position.js';

/** Options for every YAML file of a release: errors without excerpts of the contents, unique keys. */
const OPTIONS = { prettyErrors: false, uniqueKeys: true } as const;

/**
 * The documents of a YAML file (none for an empty one), kept as documents so that the comments and
 * layout of what is not changed survive. A syntax error names the file, its line and column.
 */
export function parseYamlFile(text: string, file: string): Document[] {
  const parsed = parseAllDocuments(text, OPTIONS);
  const documents: Document[] = Array.isArray(parsed) ? parsed : [];
  for (const doc of documents) {
    const error = doc.errors[0];
    if (error !== undefined) {
      throw new JobFailure('configuration-failed', `${file} is not valid YAML (${describePosition(text, error.pos[0])}): ${error.message}`);
    }
  }
  return documents;
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
