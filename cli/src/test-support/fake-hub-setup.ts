import { afterEach } from 'vitest';
import type { CommandContext } from '../command-kit.js';
import { startFakeHub, type FakeHandler, type FakeHub } from './fake-hub.js';
import { createTestIo, testContext, type TestIo } from './test-io.js';

export interface FakeHubSetup extends TestIo {
  /** A command context talking to `hub`. */
  ctx: CommandContext;
  hub: FakeHub;
}

/**
 * For a `describe` block of command tests: returns `setup(handler, json)`, which starts a fake
 * hub answering with `handler` and gives a test IO (cwd `/`) and a command context talking to
 * it with `apiKey`. Every hub started this way is closed after each test.
 */
export function fakeHubSetup(options: { apiKey: string; wallClock?: () => number }): (handler: FakeHandler, json?: boolean, hubPath?: string) => Promise<FakeHubSetup> {
  const started: FakeHub[] = [];
  afterEach(async () => {
    for (const hub of started.splice(0)) await hub.close();
  });
  return async (handler, json = false, hubPath = '') => {
    const hub = await startFakeHub(handler);
    started.push(hub);
    const t = createTestIo({ cwd: '/', ...(options.wallClock === undefined ? {} : { wallClock: options.wallClock }) });
    return { ...t, ctx: testContext(t.io, { hub: hub.url + hubPath, apiKey: options.apiKey, json }), hub };
  };
}
