import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import unzipper from 'unzipper';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { makeTempDir, runCli, startHubProcess, type HubProcess } from '../support/processes.js';

/** The CI path through the real binaries: cuttle pack, cuttle push, cuttle packages, cuttle api-key. */
describe('cuttle against a real hub', () => {
  let hub: HubProcess;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let zipPath: string;

  beforeAll(async () => {
    temp = await makeTempDir();
    hub = await startHubProcess({ dataDir: path.join(temp.dir, 'data') });
    const app = path.join(temp.dir, 'app');
    await mkdir(path.join(app, 'web', 'assets'), { recursive: true });
    await mkdir(path.join(app, 'empty'), { recursive: true });
    await writeFile(path.join(app, 'Deploy.sh'), '#!/bin/sh\necho deploying\n');
    await chmod(path.join(app, 'Deploy.sh'), 0o755);
    await writeFile(path.join(app, 'web', 'index.html'), '<h1>hello</h1>'.repeat(100));
    await writeFile(path.join(app, 'web', 'app.js.map'), '{}');
    await writeFile(path.join(app, 'web', 'assets', 'logo.png'), Buffer.alloc(2048, 1));
    await symlink('web/index.html', path.join(app, 'index.html'));
  });
  afterAll(async () => {
    await hub?.stop();
    await temp?.remove();
  });

  it('packs a folder with modes, folders, symlinks and excludes', async () => {
    const out = path.join(temp.dir, 'out');
    const packed = await runCli(['pack', path.join(temp.dir, 'app'), '--id', 'Acme.Web', '--version', '1.4.0', '--out', out, '--exclude', '**/*.map', '--json']);
    expect(packed.code, packed.stderr).toBe(0);
    zipPath = path.join(out, 'Acme.Web.1.4.0.zip');
    expect(JSON.parse(packed.stdout)).toMatchObject({ file: zipPath, id: 'Acme.Web', version: '1.4.0' });
    const zip = await unzipper.Open.file(zipPath);
    const byPath = new Map(zip.files.map((f) => [f.path, f]));
    expect([...byPath.keys()]).toEqual([...byPath.keys()].sort());
    expect(byPath.has('web/app.js.map')).toBe(false);
    expect(byPath.has('empty/')).toBe(true);
    expect((byPath.get('Deploy.sh')!.externalFileAttributes >>> 16) & 0o777).toBe(0o755);
    expect((byPath.get('index.html')!.externalFileAttributes >>> 16) & 0o170000).toBe(0o120000);
    expect(byPath.get('web/assets/logo.png')!.compressionMethod).toBe(0);
    expect(byPath.get('web/index.html')!.compressionMethod).toBe(8);
  });

  it('pushes the package with JSON events and lists it', async () => {
    const pushed = await runCli(['push', zipPath, '--json'], { hub: hub.url, apiKey: hub.adminKey });
    expect(pushed.code, pushed.stderr).toBe(0);
    const events = pushed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; package?: { id: string; sha256: string } });
    expect(events.at(-1)).toMatchObject({ event: 'pushed', package: { id: 'Acme.Web', version: '1.4.0' } });

    const listed = await runCli(['packages', '--id', 'Acme.Web', '--json'], { hub: hub.url, apiKey: hub.adminKey });
    expect(listed.code).toBe(0);
    expect(JSON.stringify(JSON.parse(listed.stdout))).toContain(events.at(-1)!.package!.sha256);

    const table = await runCli(['packages'], { hub: hub.url, apiKey: hub.adminKey });
    expect(table.stdout).toContain('Acme.Web');
    expect(table.stdout).toContain('1.4.0');
  });

  it('exits 1 when the version exists, 0 with IgnoreIfExists', async () => {
    const again = await runCli(['push', zipPath], { hub: hub.url, apiKey: hub.adminKey });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('package-exists');
    const ignored = await runCli(['push', zipPath, '--overwrite-mode', 'IgnoreIfExists'], { hub: hub.url, apiKey: hub.adminKey });
    expect(ignored.code, ignored.stderr).toBe(0);
  });

  it('exits 2 for a bad file name or a zip the hub refuses, before or after sending', async () => {
    const badName = path.join(temp.dir, 'not-a-package.zip');
    await writeFile(badName, 'x');
    const local = await runCli(['push', badName], { hub: hub.url, apiKey: hub.adminKey });
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('invalid-package-name');
    const notZip = path.join(temp.dir, 'Broken.1.0.0.zip');
    await writeFile(notZip, 'this is not a zip');
    const refused = await runCli(['push', notZip], { hub: hub.url, apiKey: hub.adminKey });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('invalid-zip');
  });

  it('exits 3 when the key is refused or the hub cannot be reached', async () => {
    const badKey = await runCli(['packages'], { hub: hub.url, apiKey: 'wrong-key-wrong-key' });
    expect(badKey.code).toBe(3);
    const unreachable = await runCli(['packages'], { hub: 'http://127.0.0.1:1', apiKey: hub.adminKey });
    expect(unreachable.code).toBe(3);
  });

  it('creates, lists and revokes API keys; a push key can push but not list', async () => {
    const created = await runCli(['api-key', 'create', 'jenkins', '--scope', 'push', '--json'], { hub: hub.url, apiKey: hub.adminKey });
    expect(created.code, created.stderr).toBe(0);
    const { key } = JSON.parse(created.stdout) as { key: string };
    expect(key).toMatch(/^cuttle_/);

    const forbidden = await runCli(['packages'], { hub: hub.url, apiKey: key });
    expect(forbidden.code).toBe(3);
    const pushed = await runCli(['push', zipPath, '--overwrite-mode', 'OverwriteExisting'], { hub: hub.url, apiKey: key });
    expect(pushed.code, pushed.stderr).toBe(0);

    const list = await runCli(['api-key', 'list', '--json'], { hub: hub.url, apiKey: hub.adminKey });
    expect(list.stdout).toContain('jenkins');
    expect(list.stdout).not.toContain(key);

    expect((await runCli(['api-key', 'revoke', 'jenkins'], { hub: hub.url, apiKey: hub.adminKey })).code).toBe(0);
    expect((await api(hub.url, '/api/v1/packages', { key })).status).toBe(401);
  });
});
