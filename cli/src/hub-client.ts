import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { z } from 'zod';
import {
  ApiKeyListSchema,
  CreatedApiKeySchema,
  EXIT,
  EnvironmentListSchema,
  EnvironmentSchema,
  ErrorBodySchema,
  HealthCheckResultSchema,
  HubInfoSchema,
  MachineListSchema,
  MachineSchema,
  PackageInfoSchema,
  PackageListSchema,
  ProjectListSchema,
  ProjectSchema,
  RegistrationTokenSchema,
  ReleaseListSchema,
  ReleaseSchema,
  type ApiKeyInfo,
  type CreateApiKeyRequest,
  type CreateEnvironmentRequest,
  type CreateReleaseRequest,
  type CreateRegistrationTokenRequest,
  type CreatedApiKey,
  type Environment,
  type HealthCheckResult,
  type HubInfo,
  type Machine,
  type MachineStatus,
  type OverwriteMode,
  type PackageInfo,
  type Project,
  type ProjectDefinition,
  type RegistrationToken,
  type Release,
  type UpdateEnvironmentRequest,
  type UpdateMachineRequest,
} from '@cuttle/shared';
import { CliError, badResponse, exitCodeForStatus } from './cli-error.js';
import { apiUrl, sendFile, sendJson, type HubResponse, type TransportOptions } from './hub-transport.js';

export type HubClientOptions = TransportOptions;

/** Filters of `GET /api/v1/machines`; absent ones are not sent. */
export interface MachineFilter {
  environment?: string;
  role?: string;
  status?: MachineStatus;
}

export interface PutProjectResult {
  project: Project;
  /** 201: the project is new. false: 200, its definition was replaced. */
  created: boolean;
}

export interface UploadRequest {
  filePath: string;
  /** `<PackageId>.<SemVer>.zip`, already validated. */
  fileName: string;
  size: number;
  overwriteMode: OverwriteMode;
  /** Bytes handed to the connection so far. */
  onProgress?: (sent: number) => void;
}

export interface UploadResult {
  package: PackageInfo;
  /** 201: stored now. false: 200, the hub kept the version it had (IgnoreIfExists). */
  created: boolean;
  /** SHA-256 of the local file, computed while it was sent (or read again when the hub answered early). */
  localSha256: string;
}

/** The CLI's only way to talk to the hub: every answer is checked against the shared schemas. */
export class HubClient {
  constructor(private readonly options: HubClientOptions) {}

  /** The hub's API URL (`--hub`), for hints that name the hub's host. */
  get hubUrl(): URL {
    return this.options.hubUrl;
  }

  async listPackages(id?: string): Promise<PackageInfo[]> {
    const response = await sendJson(this.options, 'GET', apiUrl(this.options.hubUrl, '/packages', { id }));
    return parseAnswer(this.expect(response, [200]), PackageListSchema, 'package list').items;
  }

  /**
   * Streams a package file to the hub, hashing it on the way, and checks the SHA-256 the
   * hub reports for a new package against the local one (`checksum-mismatch`, exit 1).
   */
  async uploadPackage(request: UploadRequest): Promise<UploadResult> {
    const url = apiUrl(this.options.hubUrl, '/packages', { filename: request.fileName, overwriteMode: request.overwriteMode });
    const hash = createHash('sha256');
    let sent = 0;
    const response = await sendFile(this.options, url, {
      path: request.filePath,
      size: request.size,
      contentType: 'application/zip',
      onData: (chunk) => {
        hash.update(chunk);
        sent += chunk.length;
        request.onProgress?.(sent);
      },
    });
    const answer = parseAnswer(this.expect(response, [200, 201]), PackageInfoSchema, 'package');
    const complete = response.bodyComplete && sent === request.size;
    if (response.status === 201) {
      if (!complete) throw badResponse(`the hub stored ${request.fileName} before it received the whole file (${sent} of ${request.size} bytes sent)`, { sent, size: request.size });
      const localSha256 = hash.digest('hex');
      if (answer.sha256 !== localSha256 || answer.size !== request.size) {
        throw new CliError(
          'checksum-mismatch',
          `the hub stored ${request.fileName} with sha256 ${answer.sha256} (${answer.size} bytes), but the file sent has sha256 ${localSha256} (${request.size} bytes)`,
          { exitCode: EXIT.failed, details: { file: request.fileName, expected: localSha256, actual: answer.sha256, size: request.size, hubSize: answer.size } },
        );
      }
      return { package: answer, created: true, localSha256 };
    }
    // 200: the hub kept the version it had, usually answering before the upload ended.
    const localSha256 = complete ? hash.digest('hex') : await sha256OfFile(request.filePath);
    return { package: answer, created: false, localSha256 };
  }

  async createApiKey(body: CreateApiKeyRequest): Promise<CreatedApiKey> {
    const response = await sendJson(this.options, 'POST', apiUrl(this.options.hubUrl, '/api-keys'), body);
    return parseAnswer(this.expect(response, [201]), CreatedApiKeySchema, 'created API key');
  }

  async listApiKeys(): Promise<ApiKeyInfo[]> {
    const response = await sendJson(this.options, 'GET', apiUrl(this.options.hubUrl, '/api-keys'));
    return parseAnswer(this.expect(response, [200]), ApiKeyListSchema, 'API key list').items;
  }

  async revokeApiKey(name: string): Promise<void> {
    const response = await sendJson(this.options, 'DELETE', apiUrl(this.options.hubUrl, `/api-keys/${encodeURIComponent(name)}`));
    this.expect(response, [200, 204]);
  }

  /** `GET /api/v1/hub`: version, protocol, tentacle port and certificate fingerprint. */
  async hubInfo(): Promise<HubInfo> {
    const response = await sendJson(this.options, 'GET', apiUrl(this.options.hubUrl, '/hub'));
    return parseAnswer(this.expect(response, [200]), HubInfoSchema, 'hub info');
  }

  async createEnvironment(body: CreateEnvironmentRequest): Promise<Environment> {
    const response = await sendJson(this.options, 'POST', apiUrl(this.options.hubUrl, '/environments'), body);
    return parseAnswer(this.expect(response, [201]), EnvironmentSchema, 'created environment');
  }

  /** In deployment order, as the hub keeps them. */
  async listEnvironments(): Promise<Environment[]> {
    const response = await sendJson(this.options, 'GET', apiUrl(this.options.hubUrl, '/environments'));
    return parseAnswer(this.expect(response, [200]), EnvironmentListSchema, 'environment list').items;
  }

  async updateEnvironment(name: string, body: UpdateEnvironmentRequest): Promise<Environment> {
    const response = await sendJson(this.options, 'PATCH', apiUrl(this.options.hubUrl, `/environments/${encodeURIComponent(name)}`), body);
    return parseAnswer(this.expect(response, [200]), EnvironmentSchema, 'environment');
  }

  async deleteEnvironment(name: string): Promise<void> {
    const response = await sendJson(this.options, 'DELETE', apiUrl(this.options.hubUrl, `/environments/${encodeURIComponent(name)}`));
    this.expect(response, [200, 204]);
  }

  async createRegistrationToken(body: CreateRegistrationTokenRequest): Promise<RegistrationToken> {
    const response = await sendJson(this.options, 'POST', apiUrl(this.options.hubUrl, '/registration-tokens'), body);
    return parseAnswer(this.expect(response, [201]), RegistrationTokenSchema, 'registration token');
  }

  async listMachines(filter: MachineFilter = {}): Promise<Machine[]> {
    const url = apiUrl(this.options.hubUrl, '/machines', { environment: filter.environment, role: filter.role, status: filter.status });
    const response = await sendJson(this.options, 'GET', url);
    return parseAnswer(this.expect(response, [200]), MachineListSchema, 'machine list').items;
  }

  async getMachine(name: string): Promise<Machine> {
    const response = await sendJson(this.options, 'GET', machineUrl(this.options.hubUrl, name));
    return parseAnswer(this.expect(response, [200]), MachineSchema, 'machine');
  }

  async updateMachine(name: string, body: UpdateMachineRequest): Promise<Machine> {
    const response = await sendJson(this.options, 'PATCH', machineUrl(this.options.hubUrl, name), body);
    return parseAnswer(this.expect(response, [200]), MachineSchema, 'machine');
  }

  /** Revokes the machine: the hub closes its live connection and its key stops working. */
  async deleteMachine(name: string): Promise<void> {
    const response = await sendJson(this.options, 'DELETE', machineUrl(this.options.hubUrl, name));
    this.expect(response, [200, 204]);
  }

  /** A round trip to the tentacle; 409 `machine-offline` and 504 `health-check-timeout` are errors. */
  async healthCheckMachine(name: string): Promise<HealthCheckResult> {
    const response = await sendJson(this.options, 'POST', machineUrl(this.options.hubUrl, name, '/health-check'));
    return parseAnswer(this.expect(response, [200]), HealthCheckResultSchema, 'health check');
  }

  /** `PUT /api/v1/projects/{name}`: creates the project or replaces its whole definition. */
  async putProject(name: string, definition: ProjectDefinition): Promise<PutProjectResult> {
    const response = await sendJson(this.options, 'PUT', projectUrl(this.options.hubUrl, name), definition);
    const project = parseAnswer(this.expect(response, [200, 201]), ProjectSchema, 'project');
    return { project, created: response.status === 201 };
  }

  async listProjects(): Promise<Project[]> {
    const response = await sendJson(this.options, 'GET', apiUrl(this.options.hubUrl, '/projects'));
    return parseAnswer(this.expect(response, [200]), ProjectListSchema, 'project list').items;
  }

  async getProject(name: string): Promise<Project> {
    const response = await sendJson(this.options, 'GET', projectUrl(this.options.hubUrl, name));
    return parseAnswer(this.expect(response, [200]), ProjectSchema, 'project');
  }

  async deleteProject(name: string): Promise<void> {
    const response = await sendJson(this.options, 'DELETE', projectUrl(this.options.hubUrl, name));
    this.expect(response, [200, 204]);
  }

  /** `POST /api/v1/projects/{name}/releases`: the hub fills in the version and unpinned packages. */
  async createRelease(project: string, body: CreateReleaseRequest): Promise<Release> {
    const response = await sendJson(this.options, 'POST', projectUrl(this.options.hubUrl, project, '/releases'), body);
    return parseAnswer(this.expect(response, [201]), ReleaseSchema, 'created release');
  }

  /** Newest first, as the hub keeps them. */
  async listReleases(project: string): Promise<Release[]> {
    const response = await sendJson(this.options, 'GET', projectUrl(this.options.hubUrl, project, '/releases'));
    return parseAnswer(this.expect(response, [200]), ReleaseListSchema, 'release list').items;
  }

  async getRelease(project: string, version: string): Promise<Release> {
    const response = await sendJson(this.options, 'GET', projectUrl(this.options.hubUrl, project, `/releases/${encodeURIComponent(version)}`));
    return parseAnswer(this.expect(response, [200]), ReleaseSchema, 'release');
  }

  /** Passes an expected status through; turns an error status into the hub's error. */
  private expect(response: HubResponse, statuses: readonly number[]): HubResponse {
    if (statuses.includes(response.status)) return response;
    if (response.status >= 400) throw hubError(response, this.options.apiKey !== undefined);
    const location = response.headers.location;
    const where = typeof location === 'string' ? ` (redirect to ${location}; point --hub there)` : '';
    throw badResponse(`the hub answered ${statusText(response.status)} where ${statuses.join(' or ')} was expected${where}`, {
      status: response.status,
    });
  }
}

function machineUrl(hubUrl: URL, name: string, suffix = ''): URL {
  return apiUrl(hubUrl, `/machines/${encodeURIComponent(name)}${suffix}`);
}

function projectUrl(hubUrl: URL, name: string, suffix = ''): URL {
  return apiUrl(hubUrl, `/projects/${encodeURIComponent(name)}${suffix}`);
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(path), hash);
  } catch (error) {
    throw new CliError('file-read-failed', `reading ${path} failed: ${error instanceof Error ? error.message : String(error)}`, {
      exitCode: EXIT.failed,
      details: { file: path },
    });
  }
  return hash.digest('hex');
}

function statusText(status: number): string {
  const text = STATUS_CODES[status];
  return text === undefined ? String(status) : `${status} ${text}`;
}

/** The hub's `{"error":{code,message,details}}`, or a generic error when the body is not one. */
export function hubError(response: HubResponse, hadApiKey: boolean): CliError {
  const exitCode = exitCodeForStatus(response.status);
  const parsed = ErrorBodySchema.safeParse(parseJson(response.body));
  const hint = response.status === 401 && !hadApiKey ? ' (no API key was given: pass --api-key or set CUTTLE_API_KEY)' : '';
  if (parsed.success) {
    const { code, message, details } = parsed.data.error;
    return new CliError(code, `${message}${hint}`, { exitCode, details, status: response.status });
  }
  const excerpt = response.body.toString('utf8', 0, Math.min(response.body.length, 200)).trim();
  return new CliError('hub-error', `the hub answered ${statusText(response.status)}${hint}`, {
    exitCode,
    status: response.status,
    details: excerpt === '' ? { status: response.status } : { status: response.status, body: excerpt },
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A success body that does not match its schema is `bad-response` (exit 1). */
function parseAnswer<T>(response: HubResponse, schema: z.ZodType<T>, what: string): T {
  const json = parseJson(response.body);
  if (json === undefined) throw badResponse(`the hub's ${what} answer is not JSON`, { status: response.status });
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw badResponse(`the hub's ${what} answer does not have the expected shape: ${issues.join('; ')}`, { status: response.status, issues });
  }
  return parsed.data;
}
