import { request } from 'node:https';
import { EXIT, ErrorBodySchema, RegisterResponseSchema, TENTACLE_REGISTER_PATH, type RegisterRequest, type RegisterResponse } from '@cuttle/shared';
import type { HubEndpoint } from '../net/hub-url.js';
import { describeNetworkFailure } from '../net/network-failure.js';
import type { PinnedHubTls } from '../net/pinned-tls.js';
import { TentacleError } from '../tentacle-error.js';

export const REGISTER_TIMEOUT_MS = 30_000;
/** Largest answer the tentacle reads from the registration endpoint. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs the registration over the pinned TLS. 201 → the hub's RegisterResponse; a hub error
 * → a TentacleError with the hub's code and message (exit 1); no answer → exit 3.
 */
export async function postRegistration(endpoint: HubEndpoint, tls: PinnedHubTls, body: RegisterRequest): Promise<RegisterResponse> {
  const payload = JSON.stringify(body);
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      {
        ...tls.options,
        host: endpoint.host,
        port: endpoint.port,
        ...(endpoint.servername === undefined ? {} : { servername: endpoint.servername }),
        path: TENTACLE_REGISTER_PATH,
        method: 'POST',
        agent: false,
        timeout: REGISTER_TIMEOUT_MS,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), Accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            res.destroy(new TentacleError('bad-response', `the hub's answer to the registration is larger than ${MAX_RESPONSE_BYTES} bytes`, EXIT.failed));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('the registration request timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload);
  }).catch((error: unknown) => {
    throw toTentacleError(error, endpoint, tls.fingerprint);
  });

  const json = parseJson(text);
  if (status === 201) {
    const parsed = RegisterResponseSchema.safeParse(json);
    if (!parsed.success) throw new TentacleError('bad-response', 'the hub accepted the registration but its answer is not a registration response', EXIT.failed);
    return parsed.data;
  }
  const error = ErrorBodySchema.safeParse(json);
  if (error.success) throw new TentacleError(error.data.error.code, error.data.error.message, EXIT.failed);
  throw new TentacleError('hub-error', `the hub answered HTTP ${status} to the registration`, EXIT.failed);
}

function toTentacleError(error: unknown, endpoint: HubEndpoint, fingerprint: string): TentacleError {
  if (error instanceof TentacleError) return error;
  const failure = describeNetworkFailure(error, endpoint.origin, fingerprint);
  if (failure.kind === 'certificate') return new TentacleError('fingerprint-mismatch', failure.message, EXIT.failed, { cause: error });
  return new TentacleError('hub-unreachable', failure.message, EXIT.unreachable, { cause: error });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
