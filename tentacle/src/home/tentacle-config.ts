import { readFile } from 'node:fs/promises';
import { EXIT, EnvironmentNameSchema, MachineNameSchema, RoleNameSchema } from '@cuttle/shared';
import { TentacleError } from '../tentacle-error.js';
import { normalizeFingerprint } from '../net/fingerprint.js';
import { parseHubUrl } from '../net/hub-url.js';
import { homePaths, PUBLIC_FILE_MODE, writeFileAtomic } from './home-files.js';

/** `tentacle.json`: what registration agreed with the hub. Local to the tentacle, not wire. */
export interface TentacleConfig {
  /** `wss://host:port` */
  hubUrl: string;
  /** `sha256:AB:CD:...` of hub-cert.pem */
  hubFingerprint: string;
  name: string;
  roles: string[];
  environments: string[];
  /** ISO 8601, as the hub answered it */
  registeredAt: string;
}

export async function writeTentacleConfig(home: string, config: TentacleConfig): Promise<void> {
  await writeFileAtomic(homePaths(home).config, `${JSON.stringify(config, null, 2)}\n`, PUBLIC_FILE_MODE);
}

/** Reads tentacle.json; null when it does not exist (not registered). */
export async function readTentacleConfig(home: string): Promise<TentacleConfig | null> {
  const file = homePaths(home).config;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw damaged(file, (error as Error).message, error);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw damaged(file, 'it is not valid JSON', error);
  }
  return parseTentacleConfig(json, file);
}

export function parseTentacleConfig(json: unknown, file: string): TentacleConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw damaged(file, 'it is not a JSON object');
  const record = json as Record<string, unknown>;
  const text = (key: string): string => {
    const value = record[key];
    if (typeof value !== 'string' || value === '') throw damaged(file, `"${key}" is missing or not a string`);
    return value;
  };
  const names = (key: string, check: (value: string) => boolean): string[] => {
    const value = record[key];
    if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string' && check(item))) {
      throw damaged(file, `"${key}" is not a list of valid names`);
    }
    return value;
  };
  const hubUrl = text('hubUrl');
  try {
    parseHubUrl(hubUrl);
  } catch (error) {
    throw damaged(file, `"hubUrl" is not a wss:// hub URL`, error);
  }
  const hubFingerprint = normalizeFingerprint(text('hubFingerprint'));
  if (hubFingerprint === null) throw damaged(file, '"hubFingerprint" is not a sha256: fingerprint');
  const name = text('name');
  if (!MachineNameSchema.safeParse(name).success) throw damaged(file, '"name" is not a valid machine name');
  return {
    hubUrl,
    hubFingerprint,
    name,
    roles: names('roles', (role) => RoleNameSchema.safeParse(role).success),
    environments: names('environments', (environment) => EnvironmentNameSchema.safeParse(environment).success),
    registeredAt: text('registeredAt'),
  };
}

function damaged(file: string, why: string, cause?: unknown): TentacleError {
  return new TentacleError('invalid-home', `${file} is damaged: ${why}; register this tentacle again`, EXIT.usage, { cause });
}
