import { posix } from 'node:path';
import { z } from 'zod';
import { MAX_PACKAGE_ID_LENGTH, isValidPackageId } from './package-name.js';
import { RoleNameSchema } from './protocol.js';
import { ReleaseGlobSchema } from './protocol-jobs.js';

/** Projects, their deployment process, and releases: HTTP bodies shared by hub and CLI. */

export const ProjectNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "-", "_"; 1-100 characters, starting with a letter or digit');

const StepNameSchema = z.string().min(1, 'a step needs a name').max(100);
const PackageIdRefSchema = z
  .string()
  .refine(
    isValidPackageId,
    `a package id: letters, digits, ".", "-", "_"; starts with a letter or digit; no ".." and no trailing "."; at most ${MAX_PACKAGE_ID_LENGTH} characters`,
  );

/** Why an installDir is refused, or undefined when it is an absolute, normalized folder other than "/". */
function installDirProblem(p: string): string | undefined {
  if (p.includes('\0')) return 'installDir must not contain a NUL character';
  if (!p.startsWith('/')) return 'installDir must be an absolute path';
  if (p === '/') return 'installDir must not be the root folder "/"';
  const segments = p.slice(1).split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) return 'installDir must not contain "." or ".." segments';
  if (segments.some((segment) => segment === '')) return 'installDir must not contain empty segments ("//") or end with "/"';
  if (posix.normalize(p) !== p) return 'installDir must be a normalized absolute path';
  return undefined;
}

const InstallDirSchema = z
  .string()
  .min(1)
  .max(4096)
  .superRefine((p, ctx) => {
    const problem = installDirProblem(p);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

export const DeployPackageStepSchema = z
  .object({
    name: StepNameSchema,
    type: z.literal('deploy-package'),
    package: PackageIdRefSchema,
    roles: z.array(RoleNameSchema).min(1, 'name at least one role the step runs on'),
    /** Copy the release into this fixed folder instead of switching the `current` link. */
    installDir: InstallDirSchema.optional(),
    parallelism: z.number().int().min(1).max(1000).optional(),
    retain: z.number().int().min(1).max(100).optional(),
    /** limit for each of the package's deploy scripts */
    timeoutSeconds: z.number().int().min(1).max(24 * 3600).optional(),
    /** globs of files (relative to the package root) in which `#{Name}` is replaced by the variable's value */
    substituteIn: z.array(ReleaseGlobSchema).max(100).optional(),
    /** globs of JSON and YAML files whose key paths are set from variables named like `Logging:LogLevel:Default` */
    structuredVariables: z.array(ReleaseGlobSchema).max(100).optional(),
  })
  .strict();

export const RunScriptStepSchema = z
  .object({
    name: StepNameSchema,
    type: z.literal('run-script'),
    roles: z.array(RoleNameSchema).min(1, 'name at least one role the step runs on'),
    script: z.string().min(1, 'the script is empty').max(64 * 1024),
    timeoutSeconds: z.number().int().min(1).max(24 * 3600).optional(),
  })
  .strict();

export const StepSchema = z.discriminatedUnion('type', [DeployPackageStepSchema, RunScriptStepSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'type must be "deploy-package" or "run-script"' : undefined),
});
export type Step = z.infer<typeof StepSchema>;

export const ProjectDefinitionSchema = z
  .object({
    description: z.string().max(2000).optional(),
    steps: z
      .array(StepSchema)
      .min(1, 'a project needs at least one step')
      .max(100)
      .superRefine((steps, ctx) => {
        const seen = new Set<string>();
        steps.forEach((step, index) => {
          const key = step.name.toLowerCase();
          if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `step name "${step.name}" is used twice` });
          seen.add(key);
        });
      }),
    variableSets: z.array(z.string().min(1).max(100)).max(50).optional(),
  })
  .strict();
export type ProjectDefinition = z.infer<typeof ProjectDefinitionSchema>;

export const ProjectSchema = ProjectDefinitionSchema.extend({
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Project = z.infer<typeof ProjectSchema>;
export const ProjectListSchema = z.object({ items: z.array(ProjectSchema) });

export const CreateReleaseRequestSchema = z
  .object({
    version: z.string().max(128).optional(),
    /** package id -> version; unnamed packages take their latest version */
    packages: z.record(PackageIdRefSchema, z.string().max(128)).optional(),
    notes: z.string().max(10_000).optional(),
  })
  .strict();
export type CreateReleaseRequest = z.infer<typeof CreateReleaseRequestSchema>;

export const ReleasePackageSchema = z.object({ id: z.string(), version: z.string(), sha256: z.string(), size: z.number() });

export const ReleaseSchema = z.object({
  project: z.string(),
  version: z.string(),
  notes: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  /** the deployment process as it was when the release was made */
  steps: z.array(StepSchema),
  packages: z.array(ReleasePackageSchema),
});
export type Release = z.infer<typeof ReleaseSchema>;
export const ReleaseListSchema = z.object({ items: z.array(ReleaseSchema) });
