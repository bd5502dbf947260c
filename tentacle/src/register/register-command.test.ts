import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegisterRequestSchema } from '@cuttle/shared';
import { fingerprintOfPem } from '../net/fingerprint.js';
import { FakeHub } from '../test-support/fake-hub.js';
import { TempDirs } from '../test-support/temp-dir.js';
import { assertBuilt, runTentacle } from '../test-support/tentacle-process.js';

const temp = new TempDirs();
const hubs: FakeHub[] = [];

beforeAll(() => assertBuilt());
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.stop()));
});
afterAll(() => temp.cleanup());

async function startHub(options: Parameters<typeof FakeHub.start>[0] = {}): Promise<FakeHub> {
  const hub = await FakeHub.start(options);
  hubs.push(hub);
  return hub;
}

function registerArgs(hub: FakeHub, home: string, extra: string[] = []): string[] {
  return ['register', '--hub', hub.url, '--token', 'tok-123', '--name', 'web-01', '--roles', 'web-server,cache', '--environments', 'Test,Staging', '--home', home, ...extra];
}

describe('cuttle-tentacle register', () => {
  it('creates the home, pins the hub, registers, and reuses the key on a second run', async () => {
    const hub = await startHub();
    const home = path.join(await temp.make(), 'home');
    const first = await runTentacle(registerArgs(hub, home, ['--hub-fingerprint', hub.fingerprint.toLowerCase()]));
    expect(first.stderr).toBe('');
    expect(first.exitInfo.code).toBe(0);
    expect(first.stdout).toContain('Registered "web-01"');

    expect((await stat(home)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(home, 'tentacle-key.pem'))).mode & 0o777).toBe(0o600);
    const privatePem = await readFile(path.join(home, 'tentacle-key.pem'), 'utf8');
    expect(privatePem).toContain('BEGIN PRIVATE KEY'); // PKCS#8
    const publicPem = await readFile(path.join(home, 'tentacle-pub.pem'), 'utf8');
    expect(publicPem).toContain('BEGIN PUBLIC KEY'); // SPKI
    expect(fingerprintOfPem(await readFile(path.join(home, 'hub-cert.pem'), 'utf8'))).toBe(hub.fingerprint);

    const config: unknown = JSON.parse(await readFile(path.join(home, 'tentacle.json'), 'utf8'));
    expect(config).toEqual({
      hubUrl: hub.url,
      hubFingerprint: hub.fingerprint,
      name: 'web-01',
      roles: ['web-server', 'cache'],
      environments: ['Test', 'Staging'],
      registeredAt: '2025-01-02T03:04:05.000Z',
    });
    expect(hub.registerRequests).toHaveLength(1);
    const request = RegisterRequestSchema.parse(hub.registerRequests[0]);
    expect(request).toEqual({ token: 'tok-123', name: 'web-01', roles: ['web-server', 'cache'], environments: ['Test', 'Staging'], publicKey: publicPem, force: false });

    const second = await runTentacle(registerArgs(hub, home, ['--hub-fingerprint', hub.fingerprint, '--force']));
    expect(second.exitInfo.code).toBe(0);
    expect(second.stdout).toContain('Reusing the key pair');
    expect(await readFile(path.join(home, 'tentacle-key.pem'), 'utf8')).toBe(privatePem);
    expect(RegisterRequestSchema.parse(hub.registerRequests[1])).toMatchObject({ publicKey: publicPem, force: true });
  });

  it('refuses a hub whose certificate does not match --hub-fingerprint, before sending anything', async () => {
    const hub = await startHub();
    const home = await temp.make();
    const wrong = `sha256:${'AB:'.repeat(31)}AB`;
    const result = await runTentacle(registerArgs(hub, home, ['--hub-fingerprint', wrong]));
    expect(result.exitInfo.code).toBe(1);
    expect(result.stderr).toContain(wrong);
    expect(result.stderr).toContain(hub.fingerprint);
    expect(result.stderr).toContain('(fingerprint-mismatch)');
    expect(hub.registerRequests).toHaveLength(0);
    await expect(stat(path.join(home, 'tentacle.json'))).rejects.toThrow();
    await expect(stat(path.join(home, 'tentacle-key.pem'))).rejects.toThrow();
  });

  it('refuses without --hub-fingerprint unless --trust-on-first-use is given', async () => {
    const hub = await startHub();
    const home = await temp.make();
    const result = await runTentacle(registerArgs(hub, home));
    expect(result.exitInfo.code).toBe(2);
    expect(result.stderr).toContain('--trust-on-first-use');
    expect(result.stderr).toContain('(fingerprint-required)');
    expect(hub.registerRequests).toHaveLength(0);
    expect(hub.tlsHandshakes).toBe(0);
  });

  it('with --trust-on-first-use prints the fingerprint it trusted and pins it', async () => {
    const hub = await startHub();
    const home = await temp.make();
    const result = await runTentacle(registerArgs(hub, home, ['--trust-on-first-use']));
    expect(result.exitInfo.code).toBe(0);
    expect(result.stdout).toContain(`Trusting the hub's certificate on first use: ${hub.fingerprint}`);
    const config = JSON.parse(await readFile(path.join(home, 'tentacle.json'), 'utf8')) as { hubFingerprint: string };
    expect(config.hubFingerprint).toBe(hub.fingerprint);
  });

  it("reports the hub's error with its code and exits 1, leaving no registration", async () => {
    const hub = await startHub({
      register: () => ({ status: 401, body: { error: { code: 'invalid-registration-token', message: 'the registration token is unknown or used', details: {} } } }),
    });
    const home = await temp.make();
    const result = await runTentacle(registerArgs(hub, home, ['--hub-fingerprint', hub.fingerprint]));
    expect(result.exitInfo.code).toBe(1);
    expect(result.stderr).toBe('error: the registration token is unknown or used (invalid-registration-token)\n');
    await expect(stat(path.join(home, 'tentacle.json'))).rejects.toThrow();
    await expect(stat(path.join(home, 'hub-cert.pem'))).rejects.toThrow();
  });

  it('exits 3 when the hub cannot be reached', async () => {
    const hub = await startHub();
    const url = hub.url;
    await hub.stop();
    const home = await temp.make();
    const result = await runTentacle(['register', '--hub', url, '--token', 't', '--name', 'n1', '--roles', 'web', '--environments', 'Test', '--home', home, '--trust-on-first-use']);
    expect(result.exitInfo.code).toBe(3);
    expect(result.stderr).toContain('connection refused');
  });

  it('rejects bad names and URLs with exit 2 before touching the network', async () => {
    const hub = await startHub();
    const home = await temp.make();
    const cases: string[][] = [
      ['--name', 'bad name!'],
      ['--roles', 'web server'],
      ['--environments', 'Te/st'],
      ['--hub', 'https://127.0.0.1:1'],
      ['--hub-fingerprint', 'sha256:nope'],
      ['--bogus', 'x'],
    ];
    for (const [flag, value] of cases) {
      const args = registerArgs(hub, home, ['--trust-on-first-use']);
      const at = args.indexOf(flag ?? '');
      if (at === -1) args.push(flag ?? '', value ?? '');
      else args[at + 1] = value ?? '';
      const result = await runTentacle(args);
      expect(result.exitInfo.code, `${flag} ${value}`).toBe(2);
      expect(result.stderr).toMatch(/^error: /);
    }
    expect(hub.tlsHandshakes).toBe(0);
  });

  it('takes --home from CUTTLE_TENTACLE_HOME', async () => {
    const hub = await startHub();
    const home = await temp.make();
    const args = registerArgs(hub, home, ['--hub-fingerprint', hub.fingerprint]).filter((arg, i, all) => arg !== '--home' && all[i - 1] !== '--home');
    const result = await runTentacle(args, { CUTTLE_TENTACLE_HOME: home });
    expect(result.exitInfo.code).toBe(0);
    await stat(path.join(home, 'tentacle.json'));
  });
});
