import { describe, expect, it } from 'vitest';
import { MachineProjectLocks, type LockBlocker } from './machine-project-locks.js';

const owner = (id: number) => ({ taskId: id, deploymentId: id + 100 });

describe('machine and project locks', () => {
  it('grants at once when free, and makes an overlapping task wait and say for whom', async () => {
    const locks = new MachineProjectLocks();
    const never = new AbortController().signal;
    expect(await locks.acquire(owner(1), 'Shop', ['web-1', 'web-2'], never, () => undefined)).toBe(true);
    const seen: LockBlocker[][] = [];
    let granted = false;
    const second = locks.acquire(owner(2), 'shop', ['WEB-2', 'web-3'], never, (b) => seen.push(b)).then((ok) => (granted = ok));
    // another project on the same machines goes ahead
    expect(await locks.acquire(owner(3), 'Blog', ['web-2'], never, () => undefined)).toBe(true);
    await Promise.resolve();
    expect(granted).toBe(false);
    expect(seen).toEqual([[{ owner: owner(1), machines: ['WEB-2'], holds: true }]]);
    locks.release(owner(1));
    await second;
    expect(granted).toBe(true);
  });

  it('takes all locks or none, so two tasks never deadlock, and serves overlapping waiters in order', async () => {
    const locks = new MachineProjectLocks();
    const never = new AbortController().signal;
    const order: number[] = [];
    await locks.acquire(owner(1), 'P', ['a'], never, () => undefined);
    const b = locks.acquire(owner(2), 'P', ['a', 'b'], never, () => undefined).then(() => order.push(2));
    const blockers: LockBlocker[][] = [];
    const c = locks.acquire(owner(3), 'P', ['b'], never, (x) => blockers.push(x)).then(() => order.push(3));
    // d shares nothing with anyone: it does not wait behind them
    expect(await locks.acquire(owner(4), 'P', ['d'], never, () => undefined)).toBe(true);
    expect(blockers[0]).toEqual([{ owner: owner(2), machines: ['b'], holds: false }]);
    locks.release(owner(1));
    await b;
    expect(blockers.at(-1)).toEqual([{ owner: owner(2), machines: ['b'], holds: true }]);
    locks.release(owner(2));
    await c;
    expect(order).toEqual([2, 3]);
  });

  it('gives up a wait when its signal aborts and lets the next one go', async () => {
    const locks = new MachineProjectLocks();
    const never = new AbortController().signal;
    await locks.acquire(owner(1), 'P', ['a'], never, () => undefined);
    const abort = new AbortController();
    const waiting = locks.acquire(owner(2), 'P', ['a', 'b'], abort.signal, () => undefined);
    let third = false;
    const next = locks.acquire(owner(3), 'P', ['b'], never, () => undefined).then((ok) => (third = ok));
    abort.abort();
    expect(await waiting).toBe(false);
    await next;
    expect(third).toBe(true);
    locks.release(owner(1));
    locks.release(owner(3));
    expect(locks.busy).toBe(false);
  });
});
