import path from 'node:path';
import type { z } from 'zod';
import { EXIT, ProjectDefinitionSchema, ProjectNameSchema, type ProjectDefinition } from '@cuttle/shared';
import { CliError, type FieldProblem } from './cli-error.js';
import { parseDataText, readDataText, type DataFileLimits } from './data-file.js';
import { checkName } from './local-validation.js';

/**
 * Reading `cuttle project apply -f <file>`: a YAML (or JSON: JSON is YAML 1.2) file holding a
 * project definition plus an optional top-level `name`, checked with the shared schema before
 * anything is sent. Every failure here exits 2.
 */

/** Larger than any sensible project; the hub takes at most 1 MiB of JSON anyway. */
export const MAX_PROJECT_FILE_BYTES = 1024 * 1024;

export interface ProjectFile {
  /** `--name`, else the file's `name`. */
  name: string;
  /** Checked with `ProjectDefinitionSchema`; `name` removed. */
  definition: ProjectDefinition;
}

const PROJECT_FILE_LIMITS: DataFileLimits = { code: 'invalid-project-file', maxBytes: MAX_PROJECT_FILE_BYTES, holds: 'a project definition' };

function fileError(message: string, details: Record<string, unknown>): CliError {
  return new CliError('invalid-project-file', message, { exitCode: EXIT.usage, details });
}

/** The document as plain data, or a syntax error with its line and column. */
export function parseProjectText(text: string, shown: string): unknown {
  return parseDataText(text, shown, 'invalid-project-file');
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
  const text = await readDataText(path.resolve(cwd, file), file, PROJECT_FILE_LIMITS);
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
