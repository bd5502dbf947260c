import { z } from 'zod';

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

export const HealthSchema = z.object({ status: z.literal('ok') });
