import { describe, expect, it } from 'vitest';
import { fakeHubSetup } from '../test-support/fake-hub-setup.js';
import { fakeVariables } from '../test-support/fake-variables.js';
import { failure } from '../test-support/test-io.js';
import { runSnapshotVariables } from './release.js';
import { runListVariableSets, runRemoveVariableSet, runShowVariableSet } from './variable-set.js';

const KEY = 'admin-key';

describe('cuttle variable-set', () => {
  const setup = fakeHubSetup({ apiKey: KEY });

  it('list: a table of sets, or the hub answer with --json; says how to create one when there are none', async () => {
    const fake = fakeVariables({ apiKey: KEY });
    const empty = await setup(fake.handler);
    await runListVariableSets(empty.ctx);
    expect(empty.stdout()).toBe('no variable sets; create one with: cuttle variables set --set NAME VARIABLE VALUE\n');
    fake.sets.set('Common Db', [{ name: 'Db.Port', value: '5432' }, { name: 'Db.User', value: 'app' }]);
    fake.sets.set('Mail', []);
    const { ctx, stdout } = await setup(fake.handler);
    await runListVariableSets(ctx);
    expect(stdout()).toBe('NAME       VARIABLES  UPDATED\nCommon Db  2\nMail       0\n');
    const json = await setup(fake.handler, true);
    const items = await runListVariableSets(json.ctx);
    expect(JSON.parse(json.stdout())).toEqual({ items });
    expect(items.map((item) => item.name)).toEqual(['Common Db', 'Mail']);
  });

  it('show: the variables with sensitive values masked', async () => {
    const fake = fakeVariables({ apiKey: KEY });
    fake.sets.set('Common Db', [{ name: 'Db.Port', value: '5432' }, { name: 'Db.Password', value: 'hunter2-secret', sensitive: true, scope: { environments: ['Production'] } }]);
    const { ctx, stdout, hub } = await setup(fake.handler);
    await runShowVariableSet(ctx, 'Common Db');
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/variable-sets/Common%20Db');
    expect(stdout()).toBe(
      'variable set Common Db: 2 variables\nNAME         VALUE     SENSITIVE  SCOPE\nDb.Password  ********  yes        environments: Production\nDb.Port      5432                 -\n',
    );
    const json = await setup(fake.handler, true);
    await runShowVariableSet(json.ctx, 'Common Db');
    expect(JSON.parse(json.stdout())).toEqual({ name: 'Common Db', variables: [{ name: 'Db.Port', value: '5432' }, { name: 'Db.Password', value: '********', sensitive: true, scope: { environments: ['Production'] } }] });
    expect(json.stdout()).not.toContain('hunter2');
    expect(await failure(runShowVariableSet(ctx, 'Nope'))).toMatchObject({ exitCode: 1, code: 'variable-set-not-found' });
  });

  it('remove: 204 removes it; 409 variable-set-in-use is exit 1 and keeps it; a bad name is exit 2', async () => {
    const fake = fakeVariables({ apiKey: KEY, inUse: ['Shared'] });
    fake.sets.set('Old', []);
    fake.sets.set('Shared', []);
    const { ctx, stdout, hub } = await setup(fake.handler);
    await runRemoveVariableSet(ctx, 'Old');
    expect(stdout()).toBe('removed variable set Old\n');
    expect(hub.requests[0]).toMatchObject({ method: 'DELETE' });
    expect(fake.sets.has('Old')).toBe(false);
    expect(await failure(runRemoveVariableSet(ctx, 'Shared'))).toEqual({
      exitCode: 1,
      code: 'variable-set-in-use',
      message: 'Projects still include the variable set "Shared": Acme.',
      details: { name: 'Shared', projects: ['Acme'] },
    });
    expect(fake.sets.has('Shared')).toBe(true);
    expect(await failure(runRemoveVariableSet(ctx, '../x'))).toMatchObject({ exitCode: 2, code: 'invalid-option' });
    expect(hub.requests).toHaveLength(2);
  });
});

describe('cuttle release snapshot-variables', () => {
  const setup = fakeHubSetup({ apiKey: KEY });

  it('posts to the release and prints it', async () => {
    const fake = fakeVariables({ apiKey: KEY, releases: ['Acme@1.4.0'] });
    fake.projects.set('Acme', [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
    const { ctx, stdout, hub } = await setup(fake.handler);
    await runSnapshotVariables(ctx, 'Acme', '1.4.0');
    expect(hub.requests[0]).toMatchObject({ method: 'POST' });
    expect(hub.requests[0]?.url.pathname).toBe('/api/v1/projects/Acme/releases/1.4.0/snapshot-variables');
    expect(fake.snapshots).toEqual(['Acme@1.4.0']);
    expect(stdout()).toBe('refreshed the variable snapshot of release Acme 1.4.0\n');
    const json = await setup(fake.handler, true);
    const release = await runSnapshotVariables(json.ctx, 'Acme', '1.4.0');
    expect(JSON.parse(json.stdout())).toEqual(release);
    expect(release).toMatchObject({ project: 'Acme', version: '1.4.0', steps: [] });
  });

  it('a bad version is exit 2 before any request; a missing release is exit 1', async () => {
    const { ctx, hub } = await setup(fakeVariables({ apiKey: KEY }).handler);
    expect(await failure(runSnapshotVariables(ctx, 'Acme', 'v1'))).toMatchObject({ exitCode: 2, code: 'invalid-version' });
    expect(hub.requests).toHaveLength(0);
    expect(await failure(runSnapshotVariables(ctx, 'Acme', '9.9.9'))).toMatchObject({ exitCode: 1, code: 'release-not-found', message: 'Acme has no release 9.9.9.' });
  });
});
