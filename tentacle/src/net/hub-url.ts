import { isIP } from 'node:net';
import { EXIT } from '@cuttle/shared';
import { TentacleError } from '../tentacle-error.js';

/** Where the hub's tentacle port is: parsed once from `wss://host:port`. */
export interface HubEndpoint {
  /** `wss://host:port` without a path: what tentacle.json stores and the websocket URL starts with */
  origin: string;
  /** host name or IP address (IPv6 without brackets) */
  host: string;
  port: number;
  /** TLS SNI name: the host name, or undefined for an IP address */
  servername: string | undefined;
  /** `https://host:port`, for the registration POST on the same port */
  httpsOrigin: string;
}

export function parseHubUrl(raw: string): HubEndpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(raw, 'it is not a URL');
  }
  if (url.protocol !== 'wss:') throw invalid(raw, 'it must start with wss:// (the hub\'s TLS tentacle port, for example wss://hub:10943)');
  if (url.username !== '' || url.password !== '') throw invalid(raw, 'it must not carry a user name or password');
  if (url.pathname !== '/' && url.pathname !== '') throw invalid(raw, 'it must not have a path');
  if (url.search !== '' || url.hash !== '') throw invalid(raw, 'it must not have a query or fragment');
  if (url.hostname === '') throw invalid(raw, 'it has no host');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? 443 : Number(url.port);
  return {
    origin: `wss://${url.host}`,
    host,
    port,
    servername: isIP(host) === 0 ? host : undefined,
    httpsOrigin: `https://${url.host}`,
  };
}

function invalid(raw: string, why: string): TentacleError {
  return new TentacleError('invalid-option', `--hub "${raw}" is not a usable hub URL: ${why}`, EXIT.usage);
}
