import { describe, expect, it } from 'vitest';
import { PROTOCOL_LIMITS, backoffDelayMs } from './protocol.js';

describe('backoffDelayMs', () => {
  const top = () => 0.999999;

  it('doubles its ceiling per attempt from about 1 s up to 60 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 40].map((a) => Math.round(backoffDelayMs(a, top) / 1000))).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
  });

  it('spreads attempts over the whole range (full jitter)', () => {
    expect(backoffDelayMs(5, () => 0)).toBe(0);
    expect(backoffDelayMs(5, () => 0.5)).toBe(16_000);
  });

  it('never waits more than half the time offline, so a short outage ends with a short wait', () => {
    // offline 20 s: at most 10 s, even on the tenth attempt
    expect(backoffDelayMs(10, top, 20_000)).toBeLessThanOrEqual(10_000);
    // a long outage: the usual 60 s cap
    expect(backoffDelayMs(10, top, 10 * 60_000)).toBeGreaterThan(59_000);
    // just gone: at most the base
    expect(backoffDelayMs(3, top, 0)).toBeLessThanOrEqual(PROTOCOL_LIMITS.reconnectBaseMs);
  });
});
