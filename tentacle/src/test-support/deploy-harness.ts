import { Deployer, type DeployerOptions } from '../deploy/deployer.js';
import { createJsonLogger } from '../log/logger.js';
import { ConnectionHarness } from './connection-harness.js';
import { FakeHub, type FakeTentacleSocket } from './fake-hub.js';
import type { TempDirs } from './temp-dir.js';
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
