import { describe, expect, it } from 'vitest';
import { parseHubArgs } from './config.js';

describe('--transfer-reconnect-grace', () => {
  it('defaults to 60 seconds and takes the flag over the environment', () => {
    const defaults = parseHubArgs([], {});
    expect(defaults.kind === 'config' && defaults.config.transferReconnectGraceMs).toBe(60_000);
    const fromEnv = parseHubArgs([], { CUTTLE_TRANSFER_RECONNECT_GRACE: '5' });
    expect(fromEnv.kind === 'config' && fromEnv.config.transferReconnectGraceMs).toBe(5_000);
    const fromFlag = parseHubArgs(['--transfer-reconnect-grace', '7'], { CUTTLE_TRANSFER_RECONNECT_GRACE: '5' });
    expect(fromFlag.kind === 'config' && fromFlag.config.transferReconnectGraceMs).toBe(7_000);
  });

  it('refuses a value that is not a positive number of seconds', () => {
    const parsed = parseHubArgs(['--transfer-reconnect-grace', '0'], {});
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.problems.join('\n')).toContain('--transfer-reconnect-grace');
  });
});
