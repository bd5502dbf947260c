import { describe, expect, it } from 'vitest';
import { parseHubArgs } from './config.js';

describe('--max-concurrent-transfers', () => {
  it('defaults to 4 and is read from the environment, the flag winning', () => {
    const defaults = parseHubArgs([], {});
    expect(defaults.kind === 'config' && defaults.config.maxConcurrentTransfers).toBe(4);
    const fromEnv = parseHubArgs([], { CUTTLE_MAX_CONCURRENT_TRANSFERS: '2' });
    expect(fromEnv.kind === 'config' && fromEnv.config.maxConcurrentTransfers).toBe(2);
    const fromFlag = parseHubArgs(['--max-concurrent-transfers', '16'], { CUTTLE_MAX_CONCURRENT_TRANSFERS: '2' });
    expect(fromFlag.kind === 'config' && fromFlag.config.maxConcurrentTransfers).toBe(16);
  });

  it.each(['0', '-1', '1.5', 'many', '1001'])('refuses %s, naming the flag', (value) => {
    const parsed = parseHubArgs([`--max-concurrent-transfers=${value}`], {});
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.problems.join('\n')).toContain('--max-concurrent-transfers (CUTTLE_MAX_CONCURRENT_TRANSFERS)');
  });
});
