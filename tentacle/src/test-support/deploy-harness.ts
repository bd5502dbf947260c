import { afterAll, afterEach } from 'vitest';
import { Deployer, type DeployerOptions } from '../deploy/deployer.js';
import { createJsonLogger } from '../log/logger.js';
import { ConnectionHarness } from './connection-harness.js';
import { FakeHub, type FakeTentacleSocket } from './fake-hub.js';
import { TempDirs } from './temp-dir.js';
import { waitFor } from './wait.js';

/** A FakeHub, a home folder and a TentacleConnection that runs jobs with a real Deployer. */
export class DeployHarness {
  socket!: FakeTentacleSocket;

  private constructor(
    readonly deployerLogs: Array<Record<string, unknown>>,
    readonly hub: FakeHub,
    readonly home: string,
    readonly deployer: Deployer,
    readonly connection: ConnectionHarness,
  ) {}

  static async start(temp: TempDirs, options: Partial<DeployerOptions> = {}, home?: string): Promise<DeployHarness> {
    const hub = await FakeHub.start();
    const dir = home ?? (await temp.make('cuttle-deploy-test-'));
    const logs: Array<Record<string, unknown>> = [];
    const deployer = new Deployer({
      home: dir,
      log: createJsonLogger({ write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>), level: 'debug' }),
      defaults: { killGraceMs: 300, outputDrainMs: 200 },
      ...options,
    });
    const harness = new DeployHarness(logs, hub, dir, deployer, new ConnectionHarness(hub, dir, { jobs: deployer }));
    harness.connection.connection.start();
    harness.socket = await hub.waitForConnection(0);
    await harness.connection.waitForState('online');
    return harness;
  }

  /** Drops the connection from the hub's side and waits until the tentacle is back online. */
  async cut(): Promise<FakeTentacleSocket> {
    const next = this.hub.connections.length;
    const before = this.connection.states.length;
    this.socket.ws.terminate();
    this.socket = await this.hub.waitForConnection(next, 10_000);
    await this.connection.waitForState('online', before, 10_000);
    return this.socket;
  }

  /** The socket's next inventory message after index `after`. */
  async inventory(after = 0): Promise<Extract<FakeTentacleSocket['messages'][number], { type: 'inventory' }>> {
    return this.socket.nextMessage('inventory', after);
  }

  async stop(): Promise<void> {
    await this.connection.connection.stop();
    await this.deployer.stop();
    this.deployer.killScripts();
    await this.hub.stop();
  }
}

export { waitFor };

/**
 * For a test file: temp folders and harnesses that are stopped after each test (folders removed
 * after the file). `start` takes the same options as DeployHarness.start.
 */
export function deployHarnesses(): { temp: TempDirs; start: (options?: Partial<DeployerOptions>, home?: string) => Promise<DeployHarness> } {
  const temp = new TempDirs();
  const running: DeployHarness[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((h) => h.stop()));
  });
  afterAll(() => temp.cleanup());
  return {
    temp,
    start: async (options = {}, home) => {
      const h = await DeployHarness.start(temp, options, home);
      running.push(h);
      return h;
    },
  };
}
