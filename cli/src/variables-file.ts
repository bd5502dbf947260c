import path from 'node:path';
import { EXIT, VariableSchema, type Variable } from '@cuttle/shared';
import { CliError, type FieldProblem } from './cli-error.js';
import { parseDataText, readDataText, type DataFileLimits } from './data-file.js';
import { scopeSuffix, variableKey } from './variable-scope.js';

/**
 * Reading `cuttle variables import -f <file>`: YAML or JSON holding `variables: [...]` (what
 * `cuttle variables list --json` prints) or a bare list, each entry checked with the shared
 * schema before anything is sent. Every failure exits 2.
 */

/** 5000 variables of a few hundred bytes; the hub refuses larger bodies anyway. */
export const MAX_VARIABLES_FILE_BYTES = 8 * 1024 * 1024;

const SET_FIELDS = new Set(['name', 'createdAt', 'updatedAt']);

/** What the shared list schema allows. */
const MAX_VARIABLES = 5000;

const LIMITS: DataFileLimits = { code: 'invalid-variables-file', maxBytes: MAX_VARIABLES_FILE_BYTES, holds: 'a variable list' };

function entryLabel(entry: unknown, index: number): string {
  const name = typeof entry === 'object' && entry !== null && 'name' in entry && typeof entry.name === 'string' ? entry.name : undefined;
  return name === undefined || name === '' ? `variables.${index}` : `variables.${index} (${name.slice(0, 80)})`;
}

/** Every problem of the entries: schema issues per entry, and the same name and scope given twice. */
export function variableProblems(entries: readonly unknown[]): { variables: Variable[]; problems: FieldProblem[] } {
  const variables: Variable[] = [];
  const problems: FieldProblem[] = [];
  const seen = new Map<string, number>();
  entries.forEach((entry, index) => {
    const parsed = VariableSchema.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const where = issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
        const message = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.join(', ')}` : issue.message;
        problems.push({ field: entryLabel(entry, index), message: `${where}${message}` });
      }
      return;
    }
    const key = variableKey(parsed.data);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ field: entryLabel(entry, index), message: `the same name and scope as variables.${first}${scopeSuffix(parsed.data.scope)}; give each value once` });
      return;
    }
    seen.set(key, index);
    variables.push(parsed.data);
  });
  return { variables, problems };
}

/** Reads, parses and checks a variables file: `invalid-variables` with `details.fields` lists every problem. */
export async function readVariablesFile(cwd: string, file: string): Promise<Variable[]> {
  const text = await readDataText(path.resolve(cwd, file), file, LIMITS);
  const data = parseDataText(text, file, LIMITS.code, { confidential: true });
  let entries: unknown;
  if (Array.isArray(data)) entries = data;
  else if (typeof data === 'object' && data !== null && 'variables' in data) {
    const extra = Object.keys(data).filter((key) => key !== 'variables');
    // What `variable-set show --json` and the hub print for a set carries its name and times; anything else is a mistake worth naming.
    const unknown = extra.filter((key) => !SET_FIELDS.has(key));
    if (unknown.length > 0) throw fileError(`${file} has unknown top-level field${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}; it holds "variables: [...]" or a bare list`, file);
    entries = data.variables;
  } else {
    throw fileError(`${file} ${data === null || data === undefined ? 'is empty' : 'does not hold a variable list'}; write "variables:" followed by a list of {name, value, sensitive?, scope?}, or a bare list`, file);
  }
  if (!Array.isArray(entries)) throw fileError(`${file}: "variables" is not a list`, file);
  if (entries.length > MAX_VARIABLES) throw fileError(`${file} holds ${entries.length} variables; a list holds at most ${MAX_VARIABLES}`, file);
  const { variables, problems } = variableProblems(entries);
  if (problems.length > 0) {
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    throw new CliError('invalid-variables', `${file} is not a valid variable list (${count}); nothing was sent`, { exitCode: EXIT.usage, details: { file, fields: problems } });
  }
  return variables;
}

function fileError(message: string, file: string): CliError {
  return new CliError('invalid-variables-file', message, { exitCode: EXIT.usage, details: { file } });
}
