import { z } from 'zod';
import { EnvironmentNameSchema, OsInfoSchema, RoleNameSchema } from './protocol.js';

/** HTTP API bodies, shared by the hub (validating) and the CLI (parsing responses). */

export const API_BASE = '/api/v1';

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const ScopeSchema = z.enum(['admin', 'push']);
export type Scope = z.infer<typeof ScopeSchema>;

export const OverwriteModeSchema = z.enum(['FailIfExists', 'OverwriteExisting', 'IgnoreIfExists']);
export type OverwriteMode = z.infer<typeof OverwriteModeSchema>;

export const PackageInfoSchema = z.object({
  id: z.string(),
  version: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  uploadedAt: z.string(),
  uploadedBy: z.string().nullable(),
});
export type PackageInfo = z.infer<typeof PackageInfoSchema>;

export const PackageListSchema = z.object({ items: z.array(PackageInfoSchema) });
export type PackageList = z.infer<typeof PackageListSchema>;

export const API_KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const CreateApiKeyRequestSchema = z
  .object({
    name: z.string().regex(API_KEY_NAME, 'letters, digits, ".", "-", "_"; 1-64 characters, starting with a letter or digit'),
    scopes: z.array(ScopeSchema).min(1, 'at least one scope'),
  })
  .strict();
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequestSchema>;

export const ApiKeyInfoSchema = z.object({
  name: z.string(),
  scopes: z.array(ScopeSchema),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
export type ApiKeyInfo = z.infer<typeof ApiKeyInfoSchema>;

export const CreatedApiKeySchema = z.object({
  name: z.string(),
  scopes: z.array(ScopeSchema),
  key: z.string(),
  createdAt: z.string(),
});
export type CreatedApiKey = z.infer<typeof CreatedApiKeySchema>;

export const ApiKeyListSchema = z.object({ items: z.array(ApiKeyInfoSchema) });
export type ApiKeyList = z.infer<typeof ApiKeyListSchema>;

export const HubInfoSchema = z.object({
  name: z.literal('cuttle-hub'),
  version: z.string(),
  protocolVersion: z.number().int(),
  tentaclePort: z.number().int(),
  fingerprint: z.string(),
});
export type HubInfo = z.infer<typeof HubInfoSchema>;


// ---- environments ----


export const EnvironmentSchema = z.object({
  name: z.string(),
  description: z.string(),
  /** 0-based place in the deployment order (Test before Staging before Production) */
  position: z.number().int().nonnegative(),
  createdAt: z.string(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;
export const EnvironmentListSchema = z.object({ items: z.array(EnvironmentSchema) });

export const CreateEnvironmentRequestSchema = z
  .object({ name: EnvironmentNameSchema, description: z.string().max(1000).optional(), position: z.number().int().nonnegative().optional() })
  .strict();
export type CreateEnvironmentRequest = z.infer<typeof CreateEnvironmentRequestSchema>;

export const UpdateEnvironmentRequestSchema = z
  .object({ name: EnvironmentNameSchema.optional(), description: z.string().max(1000).optional(), position: z.number().int().nonnegative().optional() })
  .strict();
export type UpdateEnvironmentRequest = z.infer<typeof UpdateEnvironmentRequestSchema>;

// ---- registration tokens ----

export const CreateRegistrationTokenRequestSchema = z
  .object({
    environments: z.array(EnvironmentNameSchema).max(50).optional(),
    roles: z.array(RoleNameSchema).max(50).optional(),
    expiresInMinutes: z.number().int().min(1).max(7 * 24 * 60).optional(),
  })
  .strict();
export type CreateRegistrationTokenRequest = z.infer<typeof CreateRegistrationTokenRequestSchema>;

export const RegistrationTokenSchema = z.object({
  token: z.string(),
  expiresAt: z.string(),
  /** empty: the tentacle may name any existing environment */
  environments: z.array(z.string()),
  /** empty: the tentacle may name any roles */
  roles: z.array(z.string()),
});
export type RegistrationToken = z.infer<typeof RegistrationTokenSchema>;

// ---- machines ----

export const MachineStatusSchema = z.enum(['online', 'offline']);
export type MachineStatus = z.infer<typeof MachineStatusSchema>;

export const MachineSchema = z.object({
  name: z.string(),
  roles: z.array(z.string()),
  environments: z.array(z.string()),
  status: MachineStatusSchema,
  disabled: z.boolean(),
  registeredAt: z.string(),
  lastSeenAt: z.string().nullable(),
  tentacleVersion: z.string().nullable(),
  os: OsInfoSchema.nullable(),
  freeDiskBytes: z.number().nullable(),
});
export type Machine = z.infer<typeof MachineSchema>;
export const MachineListSchema = z.object({ items: z.array(MachineSchema) });

export const MachineListQuerySchema = z
  .object({ environment: EnvironmentNameSchema.optional(), role: RoleNameSchema.optional(), status: MachineStatusSchema.optional() })
  .strict();

export const UpdateMachineRequestSchema = z
  .object({
    roles: z.array(RoleNameSchema).max(50).optional(),
    environments: z.array(EnvironmentNameSchema).min(1).max(50).optional(),
    disabled: z.boolean().optional(),
  })
  .strict();
export type UpdateMachineRequest = z.infer<typeof UpdateMachineRequestSchema>;

export const HealthCheckResultSchema = z.object({
  name: z.string(),
  healthy: z.literal(true),
  roundTripMs: z.number(),
  freeDiskBytes: z.number().nullable(),
  uptimeSeconds: z.number(),
  checkedAt: z.string(),
});
export type HealthCheckResult = z.infer<typeof HealthCheckResultSchema>;
