import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { YoungCollectionPacer, v8YoungCollector } from './young-collection.js';

const MiB = 1024 * 1024;

describe('YoungCollectionPacer', () => {
  it('collects once each time the given number of bytes came in, and counts afresh after', () => {
    let collections = 0;
    const pacer = new YoungCollectionPacer(16 * MiB, () => () => collections++);
    for (let index = 0; index < 3; index += 1) pacer.received(5 * MiB);
    expect(collections).toBe(0); // 15 MiB
    pacer.received(5 * MiB);
    expect(collections).toBe(1); // 20 MiB: collected, the count starts again
    pacer.received(12 * MiB);
    expect(collections).toBe(1);
    pacer.received(4 * MiB);
    expect(collections).toBe(2);
  });

  it('does nothing where no collector can be had', () => {
    let lookups = 0;
    const pacer = new YoungCollectionPacer(1, () => {
      lookups++;
      return null;
    });
    expect(() => pacer.received(10)).not.toThrow();
    expect(lookups).toBe(1);
  });
});

describe('v8YoungCollector', () => {
  it("runs one of V8's young-generation collections, without leaving gc exposed to new contexts", async () => {
    const collect = v8YoungCollector();
    expect(collect).toBeTypeOf('function');
    expect(v8YoungCollector()).toBe(collect); // looked up once

    const entries: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
    observer.observe({ entryTypes: ['gc'] });
    let calledAt = 0;
    let returnedAt = 0;
    try {
      calledAt = performance.now();
      collect?.();
      returnedAt = performance.now();
      // gc entries are delivered asynchronously
      for (let wait = 0; wait < 50 && entries.length === 0; wait += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      observer.disconnect();
    }
    // a young-generation collection that started during the call: ours, synchronous
    const ours = entries.filter((entry) => entry.startTime >= calledAt && entry.startTime <= returnedAt);
    expect(ours.map((entry) => (entry as unknown as { detail?: { kind?: number } }).detail?.kind)).toEqual([constants.NODE_PERFORMANCE_GC_MINOR]);

    // unless this process was started with --expose-gc, no context made from now on has gc
    if (typeof (globalThis as { gc?: unknown }).gc !== 'function') expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
