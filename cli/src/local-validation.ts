import { EnvironmentNameSchema, MachineNameSchema, ProjectNameSchema, RoleNameSchema } from '@cuttle/shared';
import type { z } from 'zod';
import { invalidOption } from './cli-error.js';

/**
 * Checks of names and numbers given on the command line, with the shared schemas, before
 * any request: a bad one is `invalid-option` (exit 2) and the hub is never asked.
 */

type NameSchema = typeof EnvironmentNameSchema | typeof RoleNameSchema | typeof MachineNameSchema | typeof ProjectNameSchema;

const NAME_KINDS = {
  environment: EnvironmentNameSchema,
  role: RoleNameSchema,
  machine: MachineNameSchema,
  project: ProjectNameSchema,
} as const satisfies Record<string, NameSchema>;
export type NameKind = keyof typeof NAME_KINDS;

function reasons(error: z.ZodError): string {
  return error.issues.map((issue) => issue.message).join('; ');
}

/** One environment, role, machine or project name; `what` says where it came from ("--role", "machine name"). */
export function checkName(kind: NameKind, value: string, what: string = `${kind} name`): string {
  const parsed = NAME_KINDS[kind].safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalidOption(`${what} "${value}" is not a valid ${kind} name: ${reasons(parsed.error)}.`, { [kind]: value });
}

/**
 * Values of a repeatable, comma-separated option (`--role web,db --role api`): split, trimmed,
 * empty items dropped, duplicates removed (first one wins), each checked as a `kind` name.
 */
export function parseNameList(kind: NameKind, values: readonly string[], option: string): string[] {
  const names: string[] = [];
  for (const item of values.flatMap((value) => value.split(',')).map((value) => value.trim())) {
    if (item === '') continue;
    const name = checkName(kind, item, option);
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** A whole number in [min, max] given as text (`--position 2`). */
export function parseInteger(text: string, option: string, range: { min: number; max: number }): number {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw invalidOption(`${option} "${text}" is not a whole number from ${range.min} to ${range.max}.`, { [option.replace(/^-+/, '')]: text });
  }
  return value;
}

/** A request body checked with its shared schema; the issues name the fields. */
export function checkRequest<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(request)'}: ${issue.message}`);
  throw invalidOption(`cannot ${what}: ${issues.join('; ')}`, { issues });
}
