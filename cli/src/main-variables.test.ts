import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHub, type FakeHub } from './test-support/fake-hub.js';
import { fakeVariables, type FakeVariables } from './test-support/fake-variables.js';
import { ensureBuilt, runCli } from './test-support/run-cli.js';
import { tempDir } from './test-support/test-io.js';

const ADMIN = 'cuttle_admin_key';
const SECRET = 'Sup3r-Secret-Pa55';

/** The built `cuttle` binary: variables commands through real argv, stdin, stdout, stderr and exit codes. */
describe('cuttle binary: variables', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let hub: FakeHub | undefined;
  let state: FakeVariables;

  beforeAll(() => ensureBuilt(), 120_000);
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    state = fakeVariables({ apiKey: ADMIN });
    hub = await startFakeHub(state.handler);
  });
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    await cleanup();
  });
  const cli = (args: string[], input?: string) =>
    runCli([...args, '--hub', hub?.url ?? ''], { cwd: dir, env: { CUTTLE_API_KEY: ADMIN }, ...(input === undefined ? {} : { input }) });

  it('set --sensitive --value-stdin stores the piped secret and never prints it; list masks it', async () => {
    const set = await cli(['variables', 'set', '--project', 'Acme', 'Db.Password', '--sensitive', '--value-stdin', '--environment', 'Production'], `${SECRET}\n`);
    expect(set).toEqual({ code: 0, stdout: 'added Db.Password = ******** (environments: Production) to project Acme\n', stderr: '' });
    expect(state.projects.get('Acme')).toEqual([{ name: 'Db.Password', value: SECRET, sensitive: true, scope: { environments: ['Production'] } }]);
    const plain = await cli(['variables', 'set', '--project', 'Acme', 'Db.Host', 'prod-db.internal', '--environment', 'Production']);
    expect(plain.code).toBe(0);
    const list = await cli(['variables', 'list', '--project', 'Acme']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('Db.Password  ********          yes        environments: Production');
    expect(list.stdout + list.stderr + set.stderr).not.toContain(SECRET);
  });

  it('import of an invalid file: each problem on its own stderr line, exit 2, nothing sent', async () => {
    await writeFile(path.join(dir, 'vars.yaml'), 'variables:\n  - { name: "Bad Name", value: x }\n  - { name: Ok, value: y, scope: { roles: [] } }\n');
    const run = await cli(['variables', 'import', '--project', 'Acme', '-f', 'vars.yaml']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')).toEqual([
      'error: vars.yaml is not a valid variable list (2 problems); nothing was sent (invalid-variables)',
      '  variables.0 (Bad Name): name: letters, digits, ".", ":", "_", "-"; 1-200 characters',
      expect.stringMatching(/^ {2}variables\.1 \(Ok\): scope\.roles: /) as unknown,
      '',
    ]);
    expect(hub?.requests).toHaveLength(0);
  });

  it('--json import of a broken file with a secret in it: the error names line and column but never quotes the file', async () => {
    await writeFile(path.join(dir, 'vars.yaml'), `variables:\n  - { name: Db.Password, value: ${SECRET}, sensitive: true\n  - { name: Db.Host, value: db }\n`);
    const run = await cli(['--json', 'variables', 'import', '--project', 'Acme', '-f', 'vars.yaml']);
    expect(run.code).toBe(2);
    const body = JSON.parse(run.stdout) as { error: { code: string; message: string; details: Record<string, unknown> } };
    expect(body.error).toMatchObject({ code: 'invalid-variables-file', details: { file: 'vars.yaml', line: expect.any(Number) as unknown, column: expect.any(Number) as unknown } });
    expect(body.error.details).not.toHaveProperty('source');
    expect(run.stdout + run.stderr).not.toContain(SECRET);
    expect(hub?.requests).toHaveLength(0);
  });

  it('usage errors exit 2; --no-sensitive parses; --json errors go to stdout', async () => {
    expect((await cli(['variables', 'set', 'A', 'x'])).code).toBe(2);
    const both = await cli(['variables', 'list', '--project', 'Acme', '--set', 'Db', '--json']);
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stdout)).toMatchObject({ error: { code: 'usage' } });
    state.projects.set('Acme', [{ name: 'Token', value: 'abc', sensitive: true }]);
    expect((await cli(['variables', 'set', '--project', 'Acme', 'Token', 'public', '--no-sensitive'])).stdout).toBe('updated Token = public in project Acme\n');
    expect(state.projects.get('Acme')).toEqual([{ name: 'Token', value: 'public', sensitive: false }]);
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/^ {2}variables \[options\] +list, set, remove, import/m);
    expect(help.stdout).toMatch(/^ {2}variable-set \[options\] +list, show and remove/m);
  });
});
