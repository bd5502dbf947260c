import { generateKeyPairSync } from 'node:crypto';
import type { ConnectionStateChange, TentacleConnectionOptions } from '../agent/connection-options.js';
import { TentacleConnection } from '../agent/tentacle-connection.js';
import { createJsonLogger } from '../log/logger.js';
import { createPinnedTls } from '../net/pinned-tls.js';
import type { FakeHub } from './fake-hub.js';
import { waitFor } from './wait.js';

/** An in-process TentacleConnection against a FakeHub, with its logs and state changes recorded. */
export class ConnectionHarness {
  readonly logs: Array<Record<string, unknown>> = [];
  readonly states: ConnectionStateChange[] = [];
  readonly connection: TentacleConnection;
  readonly publicKeyPem: string;

  constructor(hub: FakeHub, homeDir: string, overrides: Partial<TentacleConnectionOptions> = {}, name = 'web-01', pin = hub) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    hub.publicKeys.set(name, this.publicKeyPem);
    this.connection = new TentacleConnection({
      identity: { name, privateKey: pair.privateKey },
      hubUrl: hub.url,
      tls: createPinnedTls(pin.certificate.cert, pin.fingerprint),
      log: createJsonLogger({ write: (line) => this.logs.push(JSON.parse(line) as Record<string, unknown>), level: 'debug' }),
      version: '9.9.9-test',
      homeDir,
      onStateChange: (change) => this.states.push(change),
      random: () => 0.05,
      // every reading is 1000 s after the last: the offline-time bound never binds, the exponential shows
      now: (() => {
        let t = 0;
        return () => (t += 1_000_000);
      })(),
      ...overrides,
    });
  }

  async waitForState(state: ConnectionStateChange['state'], after = 0, timeoutMs = 5_000): Promise<ConnectionStateChange> {
    let found: ConnectionStateChange | undefined;
    await waitFor(
      () => {
        found = this.states.slice(after).find((change) => change.state === state);
        return found !== undefined;
      },
      timeoutMs,
      `state ${state}`,
    );
    if (found === undefined) throw new Error(`no state ${state}`);
    return found;
  }

  hasLog(predicate: (line: Record<string, unknown>) => boolean): boolean {
    return this.logs.some(predicate);
  }
}
