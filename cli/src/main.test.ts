import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, symlink, mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acceptUpload, drainAndHash, packageInfo, readJsonBody, sendError, sendJson, startFakeHub, type FakeHandler, type FakeHub } from './test-support/fake-hub.js';
import { ensureBuilt, runCli } from './test-support/run-cli.js';
import { tempDir } from './test-support/test-io.js';

/** The built `cuttle` binary as a child process: exit codes, stdout/stderr formats, env. */
describe('cuttle binary', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let hub: FakeHub | undefined;
  const zip = randomBytes(200_000);
  const zipSha = createHash('sha256').update(zip).digest('hex');

  beforeAll(() => ensureBuilt(), 120_000);
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeFile(path.join(dir, 'Acme.Web.1.4.0.zip'), zip);
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
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: dir, env });

  it('--version prints the package version and exits 0', async () => {
    const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });

  it('--help exits 0 with examples; a command\'s help too', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Examples:');
    expect(top.stdout).toContain('Exit codes:');
    const push = await cli(['push', '--help']);
    expect(push.code).toBe(0);
    expect(push.stdout).toContain('--overwrite-mode <mode>');
    expect(push.stdout).toContain('Global Options:');
  });

  it('usage errors exit 2 with "error: <message> (usage)" on stderr', async () => {
    expect(await cli(['push', 'Acme.Web.1.4.0.zip', '--bogus'])).toMatchObject({ code: 2, stdout: '', stderr: "error: unknown option '--bogus' (usage)\n" });
    expect(await cli(['pack', '.'])).toMatchObject({ code: 2, stderr: "error: required option '--id <PackageId>' not specified (usage)\n" });
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli([])).code).toBe(2);
    expect((await cli(['api-key'])).code).toBe(2);
  });

  it('with --json, errors are one JSON document on stdout', async () => {
    const run = await cli(['--json', 'push']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({ error: { code: 'usage', message: "missing required argument 'file'", details: { reason: 'commander.missingArgument' } } });
    const invalid = await cli(['pack', '.', '--id', 'Acme..Web', '--version', '1.0.0', '--json']);
    expect(invalid.code).toBe(2);
    expect(JSON.parse(invalid.stdout)).toMatchObject({ error: { code: 'invalid-package-id', details: { id: 'Acme..Web' } } });
  });

  it('push: success exits 0; the hub and key come from CUTTLE_HUB and CUTTLE_API_KEY', async () => {
    const server = await fake(acceptUpload);
    const run = await cli(['push', 'Acme.Web.1.4.0.zip'], { CUTTLE_HUB: server.url, CUTTLE_API_KEY: 'cuttle_env_key' });
    expect(run).toMatchObject({ code: 0, stdout: `pushed Acme.Web 1.4.0 (195.3 KiB, sha256 ${zipSha.slice(0, 12)}…)\n` });
    expect(run.stderr).toContain('pushing Acme.Web.1.4.0.zip: 100%');
    expect(server.requests[0]?.headers['x-api-key']).toBe('cuttle_env_key');
  });

  it('push: flags win over the environment, before or after the command', async () => {
    const server = await fake(acceptUpload);
    const run = await cli(['--hub', server.url, 'push', 'Acme.Web.1.4.0.zip', '--api-key', 'flag-key'], { CUTTLE_HUB: 'http://127.0.0.1:1', CUTTLE_API_KEY: 'env-key' });
    expect(run.code).toBe(0);
    expect(server.requests[0]?.headers['x-api-key']).toBe('flag-key');
  });

  it('push: an early 409 during a big upload exits 1 with the hub\'s message, not EPIPE', async () => {
    await writeFile(path.join(dir, 'Big.App.2.0.0.zip'), Buffer.alloc(48 * 1024 * 1024, 9));
    const server = await fake((req, res) => {
      req.pause();
      res.setHeader('Connection', 'close');
      sendError(res, 409, 'package-exists', 'Big.App 2.0.0 already exists.');
      res.on('finish', () => req.socket.destroy());
    });
    const run = await cli(['push', 'Big.App.2.0.0.zip', '--hub', server.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: Big.App 2.0.0 already exists. (package-exists)\n');
    expect(run.stderr).not.toMatch(/EPIPE|ECONNRESET/);
  });

  it('push: 401 exits 3, 400 and 413 exit 2, 500 exits 1', async () => {
    for (const [status, code, exit] of [
      [401, 'unauthorized', 3],
      [400, 'invalid-zip', 2],
      [413, 'package-too-large', 2],
      [500, 'internal', 1],
    ] as const) {
      const server = await fake(async (req, res) => {
        await drainAndHash(req);
        sendError(res, status, code, `refused: ${code}`);
      });
      const run = await cli(['push', 'Acme.Web.1.4.0.zip', '--hub', server.url, '--api-key', 'k']);
      expect({ code: run.code, stderr: run.stderr.split('\n').at(-2) }).toEqual({ code: exit, stderr: `error: refused: ${code} (${code})` });
      await server.close();
      hub = undefined;
    }
  });

  it('push: connection refused exits 3', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const run = await cli(['push', 'Acme.Web.1.4.0.zip', '--hub', `http://127.0.0.1:${port}`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('(hub-unreachable)');
  });

  it('push: a checksum mismatch exits 1', async () => {
    const server = await fake(async (req, res) => {
      const { size } = await drainAndHash(req);
      sendJson(res, 201, packageInfo({ sha256: 'f'.repeat(64), size }));
    });
    const run = await cli(['push', 'Acme.Web.1.4.0.zip', '--hub', server.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('(checksum-mismatch)');
  });

  it('push: a bad file name or overwrite mode exits 2 before any request', async () => {
    const server = await fake(acceptUpload);
    await writeFile(path.join(dir, 'release.zip'), 'x');
    expect(await cli(['push', 'Acme.Web.1.4.0.zip', 'release.zip', '--hub', server.url])).toMatchObject({ code: 2 });
    expect(await cli(['push', 'Acme.Web.1.4.0.zip', '--overwrite-mode', 'Always', '--hub', server.url])).toMatchObject({ code: 2 });
    expect(server.requests).toHaveLength(0);
  });

  it('push --json: one event per line, then the error document on failure', async () => {
    const ok = await fake(acceptUpload);
    const run = await cli(['push', 'Acme.Web.1.4.0.zip', '--hub', ok.url, '--json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.at(-2)).toEqual({ event: 'progress', file: 'Acme.Web.1.4.0.zip', sent: zip.length, total: zip.length });
    expect(events.at(-1)).toMatchObject({ event: 'pushed', file: 'Acme.Web.1.4.0.zip', created: true, package: { sha256: zipSha } });
    await ok.close();

    const refusing = await fake((req, res) => {
      req.resume();
      sendError(res, 409, 'package-exists', 'exists');
    });
    const failed = await cli(['push', 'Acme.Web.1.4.0.zip', '--hub', refusing.url, '--json']);
    expect(failed.code).toBe(1);
    const lines = failed.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown);
    expect(lines.slice(-2)).toEqual([
      { event: 'failed', file: 'Acme.Web.1.4.0.zip', error: { code: 'package-exists', message: 'exists' } },
      { error: { code: 'package-exists', message: 'exists' } },
    ]);
  });

  it('pack: exit 0 and a zip; refusing to overwrite exits 1; an escaping symlink exits 2', async () => {
    await mkdir(path.join(dir, 'publish'));
    await writeFile(path.join(dir, 'publish', 'index.html'), '<h1>hi</h1>');
    const first = await cli(['pack', 'publish', '--id', 'Acme.Site', '--version', '3.0.0', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ file: path.join(dir, 'Acme.Site.3.0.0.zip'), id: 'Acme.Site', version: '3.0.0', entries: 1 });
    expect(await cli(['pack', 'publish', '--id', 'Acme.Site', '--version', '3.0.0'])).toMatchObject({ code: 1 });
    await symlink('../../etc/passwd', path.join(dir, 'publish', 'passwd'));
    const escaping = await cli(['pack', 'publish', '--id', 'Acme.Site', '--version', '3.0.1']);
    expect(escaping.code).toBe(2);
    expect(escaping.stderr).toContain('symlink "passwd"');
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp') || name.includes('3.0.1'))).toEqual([]);
  });

  it('packages and api-key talk to the hub; a bad --hub exits 2', async () => {
    let createBody: unknown;
    const server = await fake(async (req, res) => {
      if (req.method === 'GET' && req.url === '/api/v1/packages') sendJson(res, 200, { items: [packageInfo()] });
      else if (req.method === 'POST' && req.url === '/api/v1/api-keys') {
        createBody = await readJsonBody(req);
        sendJson(res, 201, { name: 'ci', scopes: ['admin', 'push'], key: 'cuttle_x_secret', createdAt: '2025-01-31T14:05:09.000Z' });
      } else sendError(res, 404, 'not-found', 'no route');
    });
    const packages = await cli(['packages', '--hub', server.url]);
    expect(packages.code).toBe(0);
    expect(packages.stdout).toContain('Acme.Web  1.4.0');
    const created = await cli(['api-key', 'create', 'ci', '--scope', 'admin,push', '--hub', server.url]);
    expect(created.code).toBe(0);
    expect(createBody).toEqual({ name: 'ci', scopes: ['admin', 'push'] });
    expect(created.stdout).toContain('    cuttle_x_secret\n');
    expect(await cli(['api-key', 'revoke', 'ci', '--hub', server.url])).toMatchObject({ code: 1, stderr: 'error: no route (not-found)\n' });
    expect(await cli(['packages', '--hub', 'ftp://hub'])).toMatchObject({ code: 2 });
  });
});
