import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, EnvironmentNameSchema, MachineNameSchema, RegisterRequestSchema, RoleNameSchema, type RegisterRequest } from '@cuttle/shared';
import { parseFlags, splitList, usage } from '../cli/args.js';
import { HOME_DIR_MODE, homePaths, PUBLIC_FILE_MODE, writeFileAtomic } from '../home/home-files.js';
import { loadOrCreateKeyPair } from '../home/key-pair.js';
import { writeTentacleConfig, type TentacleConfig } from '../home/tentacle-config.js';
import { normalizeFingerprint, sameFingerprint } from '../net/fingerprint.js';
import { fetchHubCertificate } from '../net/hub-certificate.js';
import { parseHubUrl, type HubEndpoint } from '../net/hub-url.js';
import { describeNetworkFailure } from '../net/network-failure.js';
import { createPinnedTls } from '../net/pinned-tls.js';
import { TentacleError } from '../tentacle-error.js';
import { postRegistration } from './register-request.js';

const REGISTER_FLAGS = {
  hub: 'string',
  token: 'string',
  name: 'string',
  roles: 'string',
  environments: 'string',
  home: 'string',
  'hub-fingerprint': 'string',
  'trust-on-first-use': 'boolean',
  force: 'boolean',
} as const;

export interface RegisterIo {
  env: NodeJS.ProcessEnv;
  /** one line of output for the user (stdout) */
  out: (line: string) => void;
}

interface RegisterPlan {
  endpoint: HubEndpoint;
  home: string;
  /** null: trust on first use */
  expectedFingerprint: string | null;
  request: Omit<RegisterRequest, 'publicKey'>;
}

/**
 * `cuttle-tentacle register`: validate, look at the hub's certificate (pin or trust on first
 * use), make or reuse the key pair, POST the registration over the pinned TLS, and only then
 * write hub-cert.pem and tentacle.json (last), so a failure leaves no registration behind.
 */
export async function registerCommand(argv: readonly string[], io: RegisterIo): Promise<void> {
  const plan = planRegistration(argv, io.env);

  const presented = await fetchHubCertificate(plan.endpoint).catch((error: unknown) => {
    const failure = describeNetworkFailure(error, plan.endpoint.origin);
    throw new TentacleError('hub-unreachable', failure.message, EXIT.unreachable, { cause: error });
  });
  if (plan.expectedFingerprint === null) {
    io.out(`Trusting the hub's certificate on first use: ${presented.fingerprint}`);
    io.out('Compare it with the fingerprint in the hub\'s ready line or GET /api/v1/hub.');
  } else if (!sameFingerprint(presented.fingerprint, plan.expectedFingerprint)) {
    throw new TentacleError(
      'fingerprint-mismatch',
      `the hub at ${plan.endpoint.origin} presents certificate ${presented.fingerprint}, but --hub-fingerprint says ${plan.expectedFingerprint}; refusing to register (is someone in between, or is the fingerprint out of date?)`,
      EXIT.failed,
    );
  }
  const tls = createPinnedTls(presented.certPem, presented.fingerprint);

  await prepareHome(plan.home);
  const keys = await loadOrCreateKeyPair(plan.home);
  io.out(keys.created ? `Created a new key pair in ${plan.home}` : `Reusing the key pair in ${plan.home}`);

  const body = RegisterRequestSchema.parse({ ...plan.request, publicKey: keys.publicKeyPem });
  const registered = await postRegistration(plan.endpoint, tls, body);

  await writeFileAtomic(homePaths(plan.home).hubCert, presented.certPem, PUBLIC_FILE_MODE);
  const config: TentacleConfig = {
    hubUrl: plan.endpoint.origin,
    hubFingerprint: presented.fingerprint,
    name: registered.name,
    roles: registered.roles,
    environments: registered.environments,
    registeredAt: registered.registeredAt,
  };
  await writeTentacleConfig(plan.home, config);
  io.out(
    `Registered "${registered.name}" with the hub at ${plan.endpoint.origin} ` +
      `(roles: ${registered.roles.join(', ') || 'none'}; environments: ${registered.environments.join(', ')}).`,
  );
  io.out(`Start it with: cuttle-tentacle run --home ${plan.home}`);
}

/** Every check that needs no network and no disk: all usage errors come from here (exit 2). */
function planRegistration(argv: readonly string[], env: NodeJS.ProcessEnv): RegisterPlan {
  const flags = parseFlags(argv, REGISTER_FLAGS, 'register');
  const required = (name: 'hub' | 'token' | 'name' | 'roles' | 'environments'): string => {
    const value = flags[name];
    if (value === undefined || value === '') throw usage('register', `--${name} is required`);
    return value;
  };
  const endpoint = parseHubUrl(required('hub'));
  const token = required('token');
  const name = checkName(MachineNameSchema, required('name'), '--name');
  const roles = splitList(required('roles')).map((role) => checkName(RoleNameSchema, role, 'role'));
  if (roles.length === 0) throw usage('register', '--roles needs at least one role');
  const environments = splitList(required('environments')).map((environment) => checkName(EnvironmentNameSchema, environment, 'environment'));
  if (environments.length === 0) throw usage('register', '--environments needs at least one environment');
  const homeValue = flags.home ?? env.CUTTLE_TENTACLE_HOME;
  if (homeValue === undefined || homeValue === '') throw usage('register', '--home (or CUTTLE_TENTACLE_HOME) is required');

  let expectedFingerprint: string | null = null;
  const rawFingerprint = flags['hub-fingerprint'];
  if (rawFingerprint !== undefined) {
    expectedFingerprint = normalizeFingerprint(rawFingerprint);
    if (expectedFingerprint === null) {
      throw new TentacleError('invalid-option', `--hub-fingerprint "${rawFingerprint}" is not of the form sha256:AB:CD:... (32 hex pairs)`, EXIT.usage);
    }
  } else if (flags['trust-on-first-use'] !== true) {
    throw new TentacleError(
      'fingerprint-required',
      "register: without --hub-fingerprint the tentacle cannot tell the real hub from an impostor. Pass --hub-fingerprint sha256:... " +
        "(the hub prints it in its ready line and in GET /api/v1/hub), or --trust-on-first-use to accept whatever certificate the hub presents now.",
      EXIT.usage,
    );
  }

  const request = { token, name, roles, environments, force: flags.force === true };
  const checked = RegisterRequestSchema.omit({ publicKey: true }).safeParse(request);
  if (!checked.success) {
    const summary = checked.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; ');
    throw new TentacleError('invalid-option', `register: ${summary}`, EXIT.usage);
  }
  return { endpoint, home: path.resolve(homeValue), expectedFingerprint, request };
}

function checkName(schema: typeof MachineNameSchema | typeof RoleNameSchema | typeof EnvironmentNameSchema, value: string, what: string): string {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const why = result.error.issues.map((issue) => issue.message).join('; ');
  throw new TentacleError('invalid-option', `register: ${what} "${value}" is not valid: ${why}`, EXIT.usage);
}

async function prepareHome(home: string): Promise<void> {
  try {
    await mkdir(home, { recursive: true, mode: HOME_DIR_MODE });
  } catch (error) {
    throw new TentacleError('invalid-home', `cannot create the home folder ${home}: ${(error as Error).message}`, EXIT.usage, { cause: error });
  }
  const info = await stat(home);
  if (!info.isDirectory()) throw new TentacleError('invalid-home', `--home ${home} is not a folder`, EXIT.usage);
}
