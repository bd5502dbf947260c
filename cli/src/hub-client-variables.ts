import { z } from 'zod';
import {
  ReleaseSchema,
  VariablePreviewSchema,
  VariableSchema,
  VariableSetListSchema,
  type Release,
  type Variable,
  type VariablePreview,
} from '@cuttle/shared';
import { expectStatus, parseAnswer, parseJson } from './hub-answer.js';
import { apiUrl, sendJson, type HubResponse, type TransportOptions } from './hub-transport.js';

/** Whose variables: a project's own, or a shared variable set's. */
export type VariableOwner = { kind: 'project'; name: string } | { kind: 'set'; name: string };

export type VariableSetSummary = z.infer<typeof VariableSetListSchema>['items'][number];

/**
 * The lists as the hub answers them: a variable set's answer may carry more fields (its name,
 * when it changed), which are not the CLI's business; each variable is checked with the shared
 * schema's fields (unknown ones are dropped, so a read-modify-write sends only what the PUT takes).
 */
const VariableAnswerSchema = z.object({ variables: z.array(z.object(VariableSchema.shape)) });

/** A list as read, with the version the hub gave it (none from a hub without `ETag`s). */
export interface VersionedVariables {
  variables: Variable[];
  etag?: string;
}

export interface PreviewTarget {
  environment: string;
  machine?: string;
  roles: readonly string[];
}

/** Variables, variable sets, previews and snapshots, through the same transport as `HubClient`. */
export class VariableClient {
  constructor(private readonly options: TransportOptions) {}

  /** The whole list, sensitive values masked. A variable set that does not exist yet is an empty list when `missingSetIsEmpty`. */
  async getVariables(owner: VariableOwner, missingSetIsEmpty = false): Promise<Variable[]> {
    return (await this.readVariables(owner, missingSetIsEmpty)).variables;
  }

  /** The whole list and its `ETag` (a set that does not exist yet has none). */
  async readVariables(owner: VariableOwner, missingSetIsEmpty = false): Promise<VersionedVariables> {
    const response = await sendJson(this.options, 'GET', ownerUrl(this.options.hubUrl, owner));
    if (missingSetIsEmpty && owner.kind === 'set' && response.status === 404 && hubCode(response) === 'variable-set-not-found') return { variables: [] };
    const { variables } = parseAnswer(this.expect(response, [200]), VariableAnswerSchema, 'variable list');
    const etag = etagOf(response);
    return etag === undefined ? { variables } : { variables, etag };
  }

  /**
   * Replaces the whole list (a set is created when new); answers the saved list, masked. With
   * `ifMatch` (the `ETag` the list was read with) the hub refuses with 412 `variables-changed`
   * when someone else saved it since.
   */
  async putVariables(owner: VariableOwner, variables: readonly Variable[], ifMatch?: string): Promise<Variable[]> {
    const headers = ifMatch === undefined ? {} : { 'If-Match': ifMatch };
    const response = await sendJson(this.options, 'PUT', ownerUrl(this.options.hubUrl, owner), { variables }, headers);
    this.expect(response, [200, 201, 204]);
    if (response.status === 204 || response.body.length === 0) return [...variables];
    return parseAnswer(response, VariableAnswerSchema, 'saved variable list').variables;
  }

  async preview(project: string, target: PreviewTarget): Promise<VariablePreview> {
    const url = apiUrl(this.options.hubUrl, `/projects/${encodeURIComponent(project)}/variables/preview`, { environment: target.environment, machine: target.machine });
    for (const role of target.roles) url.searchParams.append('role', role);
    const response = await sendJson(this.options, 'GET', url);
    return parseAnswer(this.expect(response, [200]), VariablePreviewSchema, 'variable preview');
  }

  async listSets(): Promise<VariableSetSummary[]> {
    const response = await sendJson(this.options, 'GET', apiUrl(this.options.hubUrl, '/variable-sets'));
    return parseAnswer(this.expect(response, [200]), VariableSetListSchema, 'variable set list').items;
  }

  /** 409 `variable-set-in-use` while projects include it. */
  async deleteSet(name: string): Promise<void> {
    const response = await sendJson(this.options, 'DELETE', ownerUrl(this.options.hubUrl, { kind: 'set', name }));
    this.expect(response, [200, 204]);
  }

  /** Takes the project's current variables into the release's snapshot; answers the release. */
  async snapshotVariables(project: string, version: string): Promise<Release> {
    const url = apiUrl(this.options.hubUrl, `/projects/${encodeURIComponent(project)}/releases/${encodeURIComponent(version)}/snapshot-variables`);
    const response = await sendJson(this.options, 'POST', url);
    return parseAnswer(this.expect(response, [200]), ReleaseSchema, 'release');
  }

  private expect(response: HubResponse, statuses: readonly number[]): HubResponse {
    return expectStatus(response, statuses, this.options.apiKey !== undefined);
  }
}

function ownerUrl(hubUrl: URL, owner: VariableOwner): URL {
  return owner.kind === 'project'
    ? apiUrl(hubUrl, `/projects/${encodeURIComponent(owner.name)}/variables`)
    : apiUrl(hubUrl, `/variable-sets/${encodeURIComponent(owner.name)}`);
}

/** The error code of a hub error body, if it has one. */
function hubCode(response: HubResponse): string | undefined {
  const body = parseJson(response.body);
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error = body.error;
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function etagOf(response: HubResponse): string | undefined {
  const etag = response.headers.etag;
  return typeof etag === 'string' && etag !== '' ? etag : undefined;
}

/** For messages: `project Acme`, `variable set Databases`. */
export function ownerLabel(owner: VariableOwner): string {
  return owner.kind === 'project' ? `project ${owner.name}` : `variable set ${owner.name}`;
}
