import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHubArgs, parseSize } from './config.js';

describe('parseHubArgs', () => {
  it('uses the contract defaults', () => {
    const parsed = parseHubArgs([], {});
    expect(parsed.kind).toBe('config');
    if (parsed.kind !== 'config') return;
    expect(parsed.config).toMatchObject({
      dataDir: path.resolve('./cuttle-data'),
      host: '0.0.0.0',
      port: 8080,
      tentaclePort: 10943,
      inboxDir: path.resolve('./cuttle-data/inbox'),
      maxPackageSize: 10 * 1024 ** 3,
      keepPackageVersions: null,
      adminApiKey: null,
    });
  });

  it('takes flags over environment variables', () => {
    const parsed = parseHubArgs(['--port', '0', '--data', '/tmp/x'], { CUTTLE_PORT: '9000', CUTTLE_TENTACLE_PORT: '0', CUTTLE_MAX_PACKAGE_SIZE: '5MiB' });
    expect(parsed.kind === 'config' && parsed.config).toMatchObject({ port: 0, tentaclePort: 0, dataDir: '/tmp/x', inboxDir: '/tmp/x/inbox', maxPackageSize: 5 * 1024 ** 2 });
  });

  it('reports every problem at once', () => {
    const parsed = parseHubArgs(['--port', 'abc', '--max-package-size', 'lots', '--keep-package-versions', '0', '--tls-cert', 'a.pem'], {
      CUTTLE_ADMIN_API_KEY: 'short',
    });
    expect(parsed.kind).toBe('invalid');
    if (parsed.kind !== 'invalid') return;
    const text = parsed.problems.join('\n');
    expect(text).toContain('--port');
    expect(text).toContain('--max-package-size');
    expect(text).toContain('--keep-package-versions');
    expect(text).toContain('CUTTLE_ADMIN_API_KEY');
    expect(text).toContain('--tls-cert and --tls-key');
    expect(parsed.problems.length).toBeGreaterThanOrEqual(5);
  });

  it('refuses unknown flags', () => {
    expect(parseHubArgs(['--prot', '1'], {}).kind).toBe('invalid');
  });
});

describe('parseSize', () => {
  it.each([
    ['1048576', 1048576],
    ['10GiB', 10 * 1024 ** 3],
    ['500MB', 500 * 1000 ** 2],
    ['1.5k', 1536],
  ])('%s is %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it('refuses what is not a size', () => expect([parseSize('ten'), parseSize('5XB'), parseSize('-1')]).toEqual([null, null, null]));
});
