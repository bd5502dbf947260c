import { describe, expect, it } from 'vitest';
import { TransferSlots } from './transfer-slots.js';

describe('TransferSlots', () => {
  it('starts at once while a slot is free, then queues first come first served', () => {
    const slots = new TransferSlots(2);
    const started: string[] = [];
    const release = new Map<string, () => void>();
    for (const name of ['a', 'b', 'c', 'd']) release.set(name, slots.request(() => started.push(name)));
    expect(started).toEqual(['a', 'b']);
    expect([slots.running, slots.waiting]).toEqual([2, 2]);
    release.get('b')!();
    expect(started).toEqual(['a', 'b', 'c']);
    release.get('a')!();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect([slots.running, slots.waiting]).toEqual([2, 0]);
  });

  it('frees a slot once however often its release is called', () => {
    const slots = new TransferSlots(1);
    const started: string[] = [];
    const first = slots.request(() => started.push('first'));
    slots.request(() => started.push('second'));
    slots.request(() => started.push('third'));
    first();
    first();
    expect(started).toEqual(['first', 'second']);
    expect(slots.running).toBe(1);
  });

  it('skips a request that gave up its place in line before its turn', () => {
    const slots = new TransferSlots(1);
    const started: string[] = [];
    const first = slots.request(() => started.push('first'));
    const withdrawn = slots.request(() => started.push('withdrawn'));
    slots.request(() => started.push('last'));
    withdrawn();
    expect(slots.waiting).toBe(1);
    first();
    expect(started).toEqual(['first', 'last']);
    expect([slots.running, slots.waiting]).toEqual([1, 0]);
  });

  it('keeps the line when a slot frees while nobody waits', () => {
    const slots = new TransferSlots(1);
    slots.request(() => undefined)();
    expect([slots.running, slots.waiting]).toEqual([0, 0]);
    let ran = false;
    slots.request(() => (ran = true));
    expect(ran).toBe(true);
  });

  it('refuses a limit below one', () => {
    expect(() => new TransferSlots(0)).toThrow(RangeError);
    expect(() => new TransferSlots(Number.NaN)).toThrow(RangeError);
  });

  it('hands the release to start, so that a transfer which ends at once frees its slot', () => {
    const slots = new TransferSlots(1);
    const started: string[] = [];
    slots.request((release) => {
      started.push('empty');
      release(); // nothing to send
    });
    slots.request(() => started.push('next'));
    expect(started).toEqual(['empty', 'next']);
    expect(slots.running).toBe(1);
  });
});
