import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Variable } from '@cuttle/shared';
import type { CommandContext } from '../command-kit.js';
import type { FakeHandler } from '../test-support/fake-hub.js';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { fakeVariables, type FakeVariables } from '../test-support/fake-variables.js';
import { createTestIo, failure, tempDir, testContext } from '../test-support/test-io.js';
import { MAX_VARIABLES_RETRIES } from '../variables-update.js';
import { runImportVariables, runRemoveVariable, runSetVariable } from './variables-edit.js';

const KEY = 'admin-key';
const SECRET = 'pr0d-s3cret!';

const STORED: Variable[] = [
  { name: 'Db.Host', value: 'test-db.internal', scope: { environments: ['Test'] } },
  { name: 'Db.Password', value: SECRET, sensitive: true },
];

function acme(options: { etags?: boolean } = {}): FakeVariables {
  const fake = fakeVariables({ apiKey: KEY, ...options });
  fake.projects.set('Acme', structuredClone(STORED));
  return fake;
}

/** Another writer saves the list just before each of the first `times` PUTs arrives (between the command's GET and PUT). */
function writerBeforePut(fake: FakeVariables, other: (list: Variable[]) => Variable[], times = 1): FakeHandler {
  let left = times;
  return (req, res, recorded) => {
    if (req.method === 'PUT' && left > 0) {
      left--;
      fake.write({ project: 'Acme' }, other(fake.projects.get('Acme') ?? []));
    }
    return fake.handler(req, res, recorded);
  };
}

const names = (fake: FakeVariables) => fake.projects.get('Acme')?.map((v) => `${v.name}=${v.value}`);

describe('variables set/remove/import: concurrent changes are not lost', () => {
  const setup = fakeHubSetup({ apiKey: KEY });
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  function contextFor(url: string, json = false): { ctx: CommandContext; stdout: () => string } {
    const t = createTestIo({ cwd: dir });
    return { ctx: testContext(t.io, { hub: url, apiKey: KEY, json }), stdout: t.stdout };
  }

  it('two set commands racing (both read before either writes): both values are saved, the loser read again', async () => {
    const fake = acme();
    // Both GETs are answered only once both have arrived, so both commands hold the same ETag.
    const held: (() => void)[] = [];
    const { hub } = await setup(async (req, res, recorded) => {
      if (req.method === 'GET' && held.length < 2) {
        await new Promise<void>((resolve) => {
          held.push(resolve);
          if (held.length === 2) for (const release of held) release();
        });
      }
      return fake.handler(req, res, recorded);
    });
    const first = contextFor(hub.url);
    const second = contextFor(hub.url);
    const results = await Promise.all([
      runSetVariable(first.ctx, { project: 'Acme', name: 'A', value: '1' }),
      runSetVariable(second.ctx, { project: 'Acme', name: 'B', value: '2', environment: ['Test'] }),
    ]);
    expect(results.map((r) => r.action)).toEqual(['added', 'added']);
    expect(names(fake)?.sort()).toEqual(['A=1', 'B=2', 'Db.Host=test-db.internal', `Db.Password=${SECRET}`]);
    // One PUT was refused (412) and its command read and wrote again: 3 GETs, 3 PUTs.
    expect(hub.requests.map((r) => r.method).sort()).toEqual(['GET', 'GET', 'GET', 'PUT', 'PUT', 'PUT']);
    expect(hub.requests.filter((r) => r.method === 'PUT').map((r) => r.headers['if-match'])).toEqual(['"v0"', '"v0"', '"v1"']);
  });

  it('set: another writer saves between GET and PUT; the command applies its change to the fresh list', async () => {
    const fake = acme();
    const { hub } = await setup(writerBeforePut(fake, (list) => [...list, { name: 'Other', value: 'x' }]));
    const { ctx, stdout } = contextFor(hub.url);
    await runSetVariable(ctx, { project: 'Acme', name: 'Db.Host', value: 'test-db2.internal', environment: ['Test'] });
    expect(names(fake)).toEqual(['Db.Host=test-db2.internal', `Db.Password=${SECRET}`, 'Other=x']);
    expect(hub.requests.map((r) => r.method)).toEqual(['GET', 'PUT', 'GET', 'PUT']);
    expect(stdout()).toBe('updated Db.Host = test-db2.internal (environments: Test) in project Acme\n');
  });

  it('remove: the other writer\'s value survives; a value the other writer removed meanwhile is variable-not-found, nothing sent again', async () => {
    const fake = acme();
    const { hub } = await setup(writerBeforePut(fake, (list) => [...list, { name: 'Other', value: 'x' }]));
    await runRemoveVariable(contextFor(hub.url).ctx, { project: 'Acme', name: 'Db.Host', environment: ['Test'] });
    expect(names(fake)).toEqual([`Db.Password=${SECRET}`, 'Other=x']);

    const gone = acme();
    const second = await setup(writerBeforePut(gone, (list) => list.filter((v) => v.name !== 'Db.Host')));
    const report = await failure(runRemoveVariable(contextFor(second.hub.url).ctx, { project: 'Acme', name: 'Db.Host', environment: ['Test'] }));
    expect(report).toMatchObject({ exitCode: 1, code: 'variable-not-found' });
    expect(second.hub.requests.map((r) => r.method)).toEqual(['GET', 'PUT', 'GET']);
  });

  it('import (merge and --replace): merged into the fresh list; the counts are those of the list that was saved', async () => {
    await writeFile(path.join(dir, 'vars.yaml'), 'variables:\n  - { name: Db.Host, value: t2, scope: { environments: [Test] } }\n  - { name: New, value: n }\n');
    const fake = acme();
    const { hub } = await setup(writerBeforePut(fake, (list) => [...list, { name: 'New', value: 'theirs' }, { name: 'Other', value: 'x' }]));
    const merge = contextFor(hub.url, true);
    expect(await runImportVariables(merge.ctx, { project: 'Acme', file: 'vars.yaml' })).toEqual({ added: 0, updated: 2, removed: 0, total: 4 });
    expect(names(fake)).toEqual(['Db.Host=t2', `Db.Password=${SECRET}`, 'New=n', 'Other=x']);

    const replaced = acme();
    const second = await setup(writerBeforePut(replaced, (list) => [...list, { name: 'Other', value: 'x' }]));
    expect(await runImportVariables(contextFor(second.hub.url).ctx, { project: 'Acme', file: 'vars.yaml', replace: true })).toEqual({ added: 1, updated: 1, removed: 2, total: 2 });
    expect(names(replaced)).toEqual(['Db.Host=t2', 'New=n']);
  });

  it(`gives up after ${MAX_VARIABLES_RETRIES} fresh reads with the hub's variables-changed (exit 1)`, async () => {
    const fake = acme();
    let n = 0;
    const { hub } = await setup(writerBeforePut(fake, (list) => [...list.filter((v) => v.name !== 'Other'), { name: 'Other', value: String(++n) }], 100));
    const report = await failure(runSetVariable(contextFor(hub.url).ctx, { project: 'Acme', name: 'A', value: '1' }));
    expect(report).toMatchObject({ exitCode: 1, code: 'variables-changed' });
    expect(hub.requests.filter((r) => r.method === 'PUT')).toHaveLength(MAX_VARIABLES_RETRIES + 1);
    expect(names(fake)).not.toContain('A=1');
  });

  it('a hub without ETags gets a plain PUT, as before; a set created by its first variable is sent without If-Match', async () => {
    const old = acme({ etags: false });
    const first = await setup(old.handler);
    await runSetVariable(contextFor(first.hub.url).ctx, { project: 'Acme', name: 'A', value: '1' });
    expect(first.hub.requests.map((r) => `${r.method} ${r.headers['if-match'] ?? '-'}`)).toEqual(['GET -', 'PUT -']);
    expect(names(old)).toContain('A=1');

    const fake = fakeVariables({ apiKey: KEY });
    const second = await setup(fake.handler);
    await runSetVariable(contextFor(second.hub.url).ctx, { set: 'Common', name: 'Db.Port', value: '5432' });
    await runSetVariable(contextFor(second.hub.url).ctx, { set: 'Common', name: 'Db.Name', value: 'acme' });
    expect(second.hub.requests.map((r) => `${r.method} ${r.headers['if-match'] ?? '-'}`)).toEqual(['GET -', 'PUT -', 'GET -', 'PUT "v1"']);
    expect(fake.sets.get('Common')).toEqual([{ name: 'Db.Port', value: '5432' }, { name: 'Db.Name', value: 'acme' }]);
  });
});
