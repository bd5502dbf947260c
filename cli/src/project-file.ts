import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { EXIT, ProjectDefinitionSchema, ProjectNameSchema, errorCodeOf, type ProjectDefinition } from '@cuttle/shared';
import { CliError, type FieldProblem } from './cli-error.js';
import { checkName } from './local-validation.js';

/**
 * Reading `cuttle project apply -f <file>`: a YAML (or JSON: JSON is YAML 1.2) file holding a
 * project definition plus an optional top-level `name`, checked with the shared schema before
 * anything is sent. Every failure here exits 2.
 */

/** Larger than any sensible project; the hub takes at most 1 MiB of JSON anyway. */
export const MAX_PROJECT_FILE_BYTES = 1024 * 1024;
/** Anchors and aliases expand; this caps how often (the yaml package's own default). */
const MAX_ALIAS_COUNT = 100;

export interface ProjectFile {
  /** `--name`, else the file's `name`. */
  name: string;
  /** Checked with `ProjectDefinitionSchema`; `name` removed. */
  definition: ProjectDefinition;
}

function fileError(message: string, details: Record<string, unknown>): CliError {
  return new CliError('invalid-project-file', message, { exitCode: EXIT.usage, details });
}

/** Reads the file's text: `file-not-found`, `invalid-path`, or too large (all exit 2). */
async function readText(absPath: string, shown: string): Promise<string> {
  try {
    const stats = await stat(absPath);
    if (!stats.isFile()) throw new CliError('invalid-path', `${shown} is not a file`, { exitCode: EXIT.usage, details: { path: shown } });
    if (stats.size > MAX_PROJECT_FILE_BYTES) {
      throw fileError(`${shown} is larger than ${MAX_PROJECT_FILE_BYTES} bytes; a project definition is much smaller`, { file: shown, size: stats.size });
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

/** The document as plain data, or a syntax error with its line and column. */
export function parseProjectText(text: string, shown: string): unknown {
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
    throw fileError(`${shown} is not valid YAML or JSON: ${where}: ${first.message}${more}`, {
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
    throw fileError(`${shown} cannot be read as data: ${error instanceof Error ? error.message : String(error)}`, { file: shown });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a zod issue's path in the input, to tell a missing field from a wrong one. */
function valueAt(root: unknown, keys: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null || typeof key === 'symbol') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** `(step "Deploy web")` for a problem inside a step that has a name, so long files are easy to search. */
function stepHint(definition: Record<string, unknown>, keys: readonly PropertyKey[]): string {
  if (keys[0] !== 'steps' || typeof keys[1] !== 'number' || keys.length < 3) return '';
  const name = valueAt(definition, ['steps', keys[1], 'name']);
  return typeof name === 'string' && name !== '' ? ` (step "${name}")` : '';
}

/** zod issues as `{field, message}`, with the hub's field names (`steps.0.roles`). */
export function definitionProblems(definition: Record<string, unknown>, error: z.ZodError): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    const keys = issue.path;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const field = [...keys, key].join('.');
        problems.push({ field, message: `unknown field${stepHint(definition, [...keys, key])}` });
      }
      continue;
    }
    const message = issue.code === 'invalid_type' && valueAt(definition, keys) === undefined ? `missing: ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected} is required` : issue.message;
    problems.push({ field: keys.join('.') || '(definition)', message: `${message}${stepHint(definition, keys)}` });
  }
  return problems;
}

/** The project name: `--name` wins (checked as an option); else the file's `name`, a problem when bad or absent. */
function resolveName(fileName: unknown, nameOption: string | undefined, problems: FieldProblem[]): string | undefined {
  if (nameOption !== undefined) return checkName('project', nameOption, '--name');
  if (fileName === undefined) {
    problems.push({ field: 'name', message: 'missing: put "name: <project>" at the top of the file, or pass --name' });
    return undefined;
  }
  const parsed = ProjectNameSchema.safeParse(fileName);
  if (parsed.success) return parsed.data;
  problems.push(...parsed.error.issues.map((issue) => ({ field: 'name', message: issue.message })));
  return undefined;
}

/**
 * Reads, parses and checks a project file. Every problem of the definition (and of its
 * name) is reported at once, as `invalid-project` with `details.fields`.
 */
export async function readProjectFile(cwd: string, file: string, nameOption?: string): Promise<ProjectFile> {
  const text = await readText(path.resolve(cwd, file), file);
  const data = parseProjectText(text, file);
  if (!isPlainObject(data)) {
    const what = data === null || data === undefined ? 'is empty' : Array.isArray(data) ? 'holds a list' : `holds a single ${typeof data}`;
    throw fileError(`${file} ${what}; a project file is a mapping with "name", "steps" and optionally "description" and "variableSets"`, { file });
  }
  const { name: fileName, ...rest } = data;
  const problems: FieldProblem[] = [];
  const name = resolveName(fileName, nameOption, problems);
  const parsed = ProjectDefinitionSchema.safeParse(rest);
  if (!parsed.success) problems.push(...definitionProblems(rest, parsed.error));
  if (problems.length > 0 || name === undefined || !parsed.success) {
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    throw new CliError('invalid-project', `${file} is not a valid project definition (${count}); nothing was sent`, {
      exitCode: EXIT.usage,
      details: { file, fields: problems },
    });
  }
  return { name, definition: parsed.data };
}
