import { z } from 'zod';
import { EnvironmentNameSchema, MachineNameSchema, RoleNameSchema } from './protocol.js';

/**
 * Variables: values a project's deployments use, scoped per environment, role and machine.
 * HTTP bodies shared by hub and CLI, plus the rules both sides need.
 */

export const VARIABLE_NAME_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;
export const VariableNameSchema = z.string().regex(VARIABLE_NAME_PATTERN, 'letters, digits, ".", ":", "_", "-"; 1-200 characters');

/** What GET answers instead of a sensitive value; a PUT that sends it back keeps the stored secret. */
export const SENSITIVE_MASK = '********';

export const VariableScopeSchema = z
  .object({
    environments: z.array(EnvironmentNameSchema).min(1).max(50).optional(),
    roles: z.array(RoleNameSchema).min(1).max(50).optional(),
    machines: z.array(MachineNameSchema).min(1).max(200).optional(),
  })
  .strict();
export type VariableScope = z.infer<typeof VariableScopeSchema>;

export const VariableSchema = z
  .object({
    name: VariableNameSchema,
    value: z.string().max(256 * 1024),
    sensitive: z.boolean().optional(),
    scope: VariableScopeSchema.optional(),
  })
  .strict();
export type Variable = z.infer<typeof VariableSchema>;

/** Body of `PUT /projects/{name}/variables` and `PUT /variable-sets/{name}`: the whole list (a bare array is accepted too). */
export const VariableListSchema = z.object({ variables: z.array(VariableSchema).max(5000) }).strict();
export type VariableList = z.infer<typeof VariableListSchema>;

export const VariableSetSummarySchema = z.object({ name: z.string(), variableCount: z.number().int(), updatedAt: z.string() });
export const VariableSetListSchema = z.object({ items: z.array(VariableSetSummarySchema) });

export const VariableSetNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$/, 'letters, digits, space, ".", "-", "_"; 1-100 characters');

/** Where a resolved value came from. */
export const VariableSourceSchema = z.object({
  /** "project", "variable-set", or "built-in" */
  kind: z.enum(['project', 'variable-set', 'built-in']),
  /** the variable set's name for kind variable-set */
  set: z.string().nullable(),
  /** the scope of the winning value (null: unscoped or built-in) */
  scope: VariableScopeSchema.nullable(),
  /** which part of the scope decided: machine, role, environment, or none */
  matchedBy: z.enum(['machine', 'role', 'environment', 'unscoped']),
});

export const ResolvedVariableSchema = z.object({
  name: z.string(),
  /** the value with references (#{Other}) resolved; SENSITIVE_MASK for sensitive ones */
  value: z.string(),
  sensitive: z.boolean(),
  source: VariableSourceSchema,
});
export type ResolvedVariable = z.infer<typeof ResolvedVariableSchema>;

/** `GET /projects/{name}/variables/preview?environment=E[&machine=M][&role=R]...` */
export const VariablePreviewSchema = z.object({
  project: z.string(),
  environment: z.string(),
  machine: z.string().nullable(),
  roles: z.array(z.string()),
  variables: z.array(ResolvedVariableSchema),
});
export type VariablePreview = z.infer<typeof VariablePreviewSchema>;

/** The built-in variables every deployment target gets (they cannot be defined by users). */
export const BUILT_IN_VARIABLES = [
  'Cuttle.Project.Name',
  'Cuttle.Release.Number',
  'Cuttle.Environment.Name',
  'Cuttle.Machine.Name',
  'Cuttle.Machine.Roles',
  'Cuttle.Package.Id',
  'Cuttle.Package.Version',
  'Cuttle.Deployment.Id',
] as const;

/** `Logging:LogLevel.Default` -> `CUTTLE_VAR_Logging_LogLevel_Default`: how variables reach scripts' environments. */
export function variableEnvName(name: string): string {
  return `CUTTLE_VAR_${name.replace(/[.:-]/g, '_')}`;
}
