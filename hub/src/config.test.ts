import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_TIMER_SECONDS, parseHubArgs, parseSize } from './config.js';

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

  it('caps timer settings at 2147483 seconds, the longest a Node timer waits', () => {
    expect(MAX_TIMER_SECONDS).toBe(2147483);
    const ok = parseHubArgs(['--upload-idle-timeout', '2147483'], { CUTTLE_HEALTH_CHECK_INTERVAL: '2147483' });
    expect(ok.kind === 'config' && ok.config).toMatchObject({ uploadIdleTimeoutMs: 2147483000, healthCheckIntervalMs: 2147483000 });
    expect(2147483000).toBeLessThanOrEqual(2 ** 31 - 1);

    const parsed = parseHubArgs(['--upload-idle-timeout', '2147484'], { CUTTLE_HEALTH_CHECK_INTERVAL: '99999999999' });
    expect(parsed.kind).toBe('invalid');
    if (parsed.kind !== 'invalid') return;
    expect(parsed.problems).toHaveLength(2);
    expect(parsed.problems[0]).toMatch(/^--upload-idle-timeout \(CUTTLE_UPLOAD_IDLE_TIMEOUT\): at most 2147483 seconds.*\(got "2147484"\)$/);
    expect(parsed.problems[1]).toMatch(/^--health-check-interval \(CUTTLE_HEALTH_CHECK_INTERVAL\): at most 2147483 seconds/);
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
