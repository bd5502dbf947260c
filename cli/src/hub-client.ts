import { createHash } from 'node:crypto';
import {
  ApiKeyListSchema,
  CreatedApiKeySchema,
  DashboardSchema,
  DeploymentSchema,
  EXIT,
  hashFile,
  EnvironmentListSchema,
  EnvironmentSchema,
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
  StatusListSchema,
  TaskLogEntrySchema,
  TaskSchema,
  type ApiKeyInfo,
  type CreateApiKeyRequest,
  type CreateDeploymentRequest,
  type Dashboard,
  type Deployment,
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
  type RollbackRequest,
  type StatusRow,
  type Task,
  type TaskLogEntry,
  type UpdateEnvironmentRequest,
  type UpdateMachineRequest,
} from '@cuttle/shared';
import { CliError, badResponse } from './cli-error.js';
import { expectStatus, parseAnswer, parseJson, parseValue } from './hub-answer.js';
import { VariableClient } from './hub-client-variables.js';
import { streamLines } from './hub-stream.js';
import { apiUrl, sendFile, sendJson, type HubResponse, type TransportOptions } from './hub-transport.js';

export type HubClientOptions = TransportOptions;

/** Filters of `GET /api/v1/machines`; absent ones are not sent. */
export interface MachineFilter {
  environment?: string;
  role?: string;
  status?: MachineStatus;
}

/** Filters of `GET /api/v1/status`; absent ones are not sent. */
export interface StatusFilter {
  project?: string;
  environment?: string;
  machine?: string;
}

export interface TaskLogRequest {
  /** Only entries after this sequence number (0: from the start). */
  since: number;
  /** Keep the answer open until the task ends. */
  follow: boolean;
  /** Give up when nothing arrives for this long (default: the client's timeout). */
  idleMs?: number;
  signal?: AbortSignal;
  /** The hub accepted the request and the entries start. */
  onOpen?(): void;
  onEntry(entry: TaskLogEntry): void;
}

/** The media type of task logs as one JSON entry per line. */
export const NDJSON = 'application/x-ndjson';

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

  /** The request idle timeout in milliseconds (`--timeout`). */
  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** A client like this one with another idle timeout and/or one more signal that stops its requests. */
  derive(changes: { timeoutMs?: number; signal?: AbortSignal }): HubClient {
    const signals = [this.options.signal, changes.signal].filter((signal): signal is AbortSignal => signal !== undefined);
    const options: HubClientOptions = { hubUrl: this.options.hubUrl, apiKey: this.options.apiKey, userAgent: this.options.userAgent, timeoutMs: changes.timeoutMs ?? this.options.timeoutMs };
    if (signals.length > 0) options.signal = AbortSignal.any(signals);
    return new HubClient(options);
  }

  /** Variables, variable sets, previews and release snapshots (kept in their own file). */
  get variables(): VariableClient {
    return new VariableClient(this.options);
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

  /** `POST /api/v1/deployments`: answers at once; the deployment runs as the task it names. */
  async createDeployment(body: CreateDeploymentRequest): Promise<Deployment> {
    const response = await sendJson(this.options, 'POST', apiUrl(this.options.hubUrl, '/deployments'), body);
    return parseAnswer(this.expect(response, [201]), DeploymentSchema, 'created deployment');
  }

  /** `POST /api/v1/rollback`: deploys the previous successful release again (409 `no-previous-release`). */
  async rollback(body: RollbackRequest): Promise<Deployment> {
    const response = await sendJson(this.options, 'POST', apiUrl(this.options.hubUrl, '/rollback'), body);
    return parseAnswer(this.expect(response, [201]), DeploymentSchema, 'created rollback');
  }

  async getTask(id: number): Promise<Task> {
    const response = await sendJson(this.options, 'GET', taskUrl(this.options.hubUrl, id));
    return parseAnswer(this.expect(response, [200]), TaskSchema, 'task');
  }

  /** Asks the hub to stop the task (202); 409 `task-finished` when it has ended already. */
  async cancelTask(id: number): Promise<Task> {
    const response = await sendJson(this.options, 'POST', taskUrl(this.options.hubUrl, id, '/cancel'));
    return parseAnswer(this.expect(response, [200, 202]), TaskSchema, 'cancelled task');
  }

  /**
   * `GET /api/v1/tasks/{id}/log` as NDJSON, each entry handed to `onEntry` as it arrives. With
   * `follow` the hub keeps the answer open until the task ends. Resolves when the hub ends the
   * answer; a broken connection rejects after the entries that arrived whole.
   */
  async readTaskLog(id: number, request: TaskLogRequest): Promise<void> {
    const query: Record<string, string | undefined> = {
      since: request.since > 0 ? String(request.since) : undefined,
      follow: request.follow ? 'true' : undefined,
    };
    await streamLines(this.options, {
      url: taskUrl(this.options.hubUrl, id, '/log', query),
      accept: NDJSON,
      idleMs: request.idleMs ?? this.options.timeoutMs,
      ...(request.signal === undefined ? {} : { signal: request.signal }),
      ...(request.onOpen === undefined ? {} : { onOpen: request.onOpen }),
      onLine: (line) => request.onEntry(parseValue(parseJson(line), TaskLogEntrySchema, 'task log entry', 200)),
    });
  }

  /** `GET /api/v1/status`: one row per machine, project and environment. */
  async listStatus(filter: StatusFilter = {}): Promise<StatusRow[]> {
    const url = apiUrl(this.options.hubUrl, '/status', { project: filter.project, environment: filter.environment, machine: filter.machine });
    const response = await sendJson(this.options, 'GET', url);
    return parseAnswer(this.expect(response, [200]), StatusListSchema, 'status').items;
  }

  /** `GET /api/v1/dashboard`: projects x environments with the newest deployment of each. */
  async dashboard(): Promise<Dashboard> {
    const response = await sendJson(this.options, 'GET', apiUrl(this.options.hubUrl, '/dashboard'));
    return parseAnswer(this.expect(response, [200]), DashboardSchema, 'dashboard');
  }

  /** Passes an expected status through; turns an error status into the hub's error. */
  private expect(response: HubResponse, statuses: readonly number[]): HubResponse {
    return expectStatus(response, statuses, this.options.apiKey !== undefined);
  }
}

function machineUrl(hubUrl: URL, name: string, suffix = ''): URL {
  return apiUrl(hubUrl, `/machines/${encodeURIComponent(name)}${suffix}`);
}

function taskUrl(hubUrl: URL, id: number, suffix = '', query: Record<string, string | undefined> = {}): URL {
  return apiUrl(hubUrl, `/tasks/${id}${suffix}`, query);
}

function projectUrl(hubUrl: URL, name: string, suffix = ''): URL {
  return apiUrl(hubUrl, `/projects/${encodeURIComponent(name)}${suffix}`);
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    await hashFile(path, hash);
  } catch (error) {
    throw new CliError('file-read-failed', `reading ${path} failed: ${error instanceof Error ? error.message : String(error)}`, {
      exitCode: EXIT.failed,
      details: { file: path },
    });
  }
  return hash.digest('hex');
}
