import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendError, startFakeHub, type FakeHandler, type FakeHub } from './test-support/fake-hub.js';
import { fakeProjects, type FakeProjects } from './test-support/fake-projects.js';
import { ensureBuilt, runCli } from './test-support/run-cli.js';
import { tempDir } from './test-support/test-io.js';

const ADMIN = 'cuttle_admin_key';

const CUTTLE_YAML = `name: Acme
description: The Acme web shop
steps:
  - name: Deploy web
    type: deploy-package
    package: Acme.Web
    roles: [web-server]
  - name: Smoke test
    type: run-script
    roles: [web-server]
    script: curl -fsS http://localhost/health
`;

/** The built `cuttle` binary: project and release commands, exit codes, stdout and stderr formats. */
describe('cuttle binary: projects and releases', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let hub: FakeHub | undefined;

  beforeAll(() => ensureBuilt(), 120_000);
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeFile(path.join(dir, 'cuttle.yaml'), CUTTLE_YAML);
  });
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    await cleanup();
  });

  async function fake(handler: FakeHandler): Promise<FakeHub> {
    hub = await startFakeHub(handler);
    return hub;
  }
  async function projectsHub(): Promise<{ server: FakeHub; state: FakeProjects }> {
    const state = fakeProjects({ apiKey: ADMIN, packages: { 'Acme.Web': ['1.3.0', '1.4.0'] } });
    return { server: await fake(state.handler), state };
  }
  const cli = (server: FakeHub, args: string[], key = ADMIN) => runCli([...args, '--hub', server.url], { cwd: dir, env: { CUTTLE_API_KEY: key } });

  it('the CI path: apply (created, then updated), release create with a pinned package, list, show, remove', async () => {
    const { server, state } = await projectsHub();
    expect(await cli(server, ['project', 'apply', '-f', 'cuttle.yaml'])).toEqual({ code: 0, stdout: 'created project Acme (2 steps)\n', stderr: '' });
    expect(await cli(server, ['project', 'apply', '--file', 'cuttle.yaml'])).toEqual({ code: 0, stdout: 'updated project Acme (2 steps)\n', stderr: '' });

    const created = await cli(server, ['release', 'create', '--project', 'Acme', '--package', 'Acme.Web:1.3.0', '--notes', 'DEV-123']);
    expect(created).toEqual({ code: 0, stdout: 'created release Acme 0.0.1 (Acme.Web 1.3.0)\n', stderr: '' });
    expect(state.bodies.at(-1)).toEqual({ packages: { 'Acme.Web': '1.3.0' }, notes: 'DEV-123' });
    const json = await cli(server, ['release', 'create', '--project', 'Acme', '--version', '1.0.0', '--package', 'Acme.Web@1.4.0', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ project: 'Acme', version: '1.0.0', notes: null, packages: [{ id: 'Acme.Web', version: '1.4.0' }] });

    const list = await cli(server, ['release', 'list', '--project', 'Acme']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n').map((line) => line.split(/\s{2,}/)[0])).toEqual(['VERSION', '1.0.0', '0.0.1', '']);
    const show = await cli(server, ['release', 'show', '1.0.0', '--project', 'Acme']);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('packages:\n  Acme.Web 1.4.0  2.0 KiB  sha256 bbbbbbbbbbbb\n');
    expect(show.stdout).toContain('  2. Smoke test (run-script) on web-server\n       curl -fsS http://localhost/health\n');

    expect((await cli(server, ['project', 'list'])).stdout).toContain('Acme  2      Acme.Web');
    expect((await cli(server, ['project', 'show', 'Acme'])).stdout).toContain('  1. Deploy web (deploy-package): Acme.Web on web-server\n');
    expect(await cli(server, ['project', 'remove', 'Acme'])).toEqual({ code: 0, stdout: 'removed project Acme\n', stderr: '' });
  });

  it('an invalid definition: every problem on its own line, exit 2, nothing sent; --json carries them in details.fields', async () => {
    const { server } = await projectsHub();
    await writeFile(path.join(dir, 'bad.yaml'), 'steps:\n  - name: Deploy web\n    type: deploy-package\n    roles: []\n');
    const run = await cli(server, ['project', 'apply', '-f', 'bad.yaml']);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: [
        'error: bad.yaml is not a valid project definition (3 problems); nothing was sent (invalid-project)',
        '  name: missing: put "name: <project>" at the top of the file, or pass --name',
        '  steps.0.package: missing: a string is required (step "Deploy web")',
        '  steps.0.roles: name at least one role the step runs on (step "Deploy web")',
        '',
      ].join('\n'),
    });
    const json = await cli(server, ['project', 'apply', '-f', 'bad.yaml', '--name', 'Acme', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        code: 'invalid-project',
        message: 'bad.yaml is not a valid project definition (2 problems); nothing was sent',
        details: {
          file: 'bad.yaml',
          fields: [
            { field: 'steps.0.package', message: 'missing: a string is required (step "Deploy web")' },
            { field: 'steps.0.roles', message: 'name at least one role the step runs on (step "Deploy web")' },
          ],
        },
      },
    });
    expect(server.requests).toHaveLength(0);
  });

  it('a YAML syntax error shows the line and column, exit 2; a missing -f is a usage error', async () => {
    const { server } = await projectsHub();
    await writeFile(path.join(dir, 'broken.yaml'), 'name: Acme\nsteps:\n  - name: a\n    roles: [web-server\n    type: run-script\n');
    expect(await cli(server, ['project', 'apply', '-f', 'broken.yaml'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: broken.yaml is not valid YAML or JSON: line 5, column 5: Flow sequence in block collection must be sufficiently indented and end with a ] (invalid-project-file)\n',
    });
    expect(await cli(server, ['project', 'apply'])).toMatchObject({ code: 2, stderr: "error: required option '-f, --file <path>' not specified (usage)\n" });
    expect(await cli(server, ['project', 'apply', '-f', 'missing.yaml'])).toMatchObject({ code: 2, stderr: 'error: missing.yaml does not exist (file-not-found)\n' });
    expect(server.requests).toHaveLength(0);
  });

  it("the hub's 400 with details.fields is printed field by field, exit 2", async () => {
    const server = await fake((req, res) => {
      req.resume();
      sendError(res, 400, 'invalid-request', 'The project definition is invalid: steps.0.roles.0: unknown role.', {
        fields: [{ field: 'steps.0.roles.0', message: 'unknown role' }],
      });
    });
    expect(await cli(server, ['project', 'apply', '-f', 'cuttle.yaml'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: The project definition is invalid: steps.0.roles.0: unknown role. (invalid-request)\n  steps.0.roles.0: unknown role\n',
    });
  });

  it('409 and 404 exit 1, 401 exits 3, bad flags exit 2 before any request', async () => {
    const { server, state } = await projectsHub();
    expect((await cli(server, ['project', 'apply', '-f', 'cuttle.yaml'])).code).toBe(0);
    expect((await cli(server, ['release', 'create', '--project', 'Acme', '--version', '1.0.0'])).code).toBe(0);
    expect(await cli(server, ['release', 'create', '--project', 'Acme', '--version', '1.0.0'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: Acme already has a release 1.0.0. (release-exists)\n',
    });
    expect(await cli(server, ['release', 'show', '2.0.0', '--project', 'Acme'])).toMatchObject({ code: 1, stderr: 'error: Acme has no release 2.0.0. (release-not-found)\n' });
    expect(await cli(server, ['project', 'show', 'Nope'])).toMatchObject({ code: 1, stderr: 'error: No project is named "Nope". (project-not-found)\n' });
    const unauthorized = await cli(server, ['release', 'list', '--project', 'Acme', '--json'], 'wrong-key');
    expect(unauthorized.code).toBe(3);
    expect(JSON.parse(unauthorized.stdout)).toEqual({ error: { code: 'unauthorized', message: 'The API key is missing or unknown.' } });

    const before = server.requests.length;
    expect(await cli(server, ['release', 'create', '--project', 'Acme', '--package', 'Acme.Web'])).toMatchObject({ code: 2, stderr: expect.stringContaining('(invalid-option)') as unknown });
    expect(await cli(server, ['release', 'create', '--project', 'Acme', '--package', 'Acme.Web:1.4'])).toMatchObject({ code: 2, stderr: expect.stringContaining('(invalid-version)') as unknown });
    expect(await cli(server, ['release', 'create', '--package', 'Acme.Web:1.4.0'])).toMatchObject({ code: 2, stderr: "error: required option '--project <name>' not specified (usage)\n" });
    expect(server.requests).toHaveLength(before);
    expect(state.releases.get('Acme')).toHaveLength(1);
  });
});
