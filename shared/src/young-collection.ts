/**
 * Pacing V8's young-generation collections to the bytes a process receives.
 *
 * node:http hands out every piece of a request body, and TLS every piece of cleartext, in a
 * buffer of its own, allocated outside V8's heap. V8 frees such a buffer only when it collects
 * the young generation, and it does that when the heap's own objects fill the young generation,
 * which a stream of bytes barely touches. Meanwhile the buffers pile up, and V8 counts them
 * against the old generation's limit: in a process with a heap the size of the hub's, it then
 * starts a full mark-compact of the whole heap every 30 MiB or so. Measured on a 1 GiB upload:
 * 35 mark-compacts, about a second of CPU, and the upload half as fast again. Collecting the
 * young generation every COLLECT_EVERY_BYTES of received data frees the buffers while they are
 * young; one such collection costs well under a millisecond.
 *
 * The collection is V8's own `gc({ type: 'minor' })`, exposed for this module only: the flag
 * that exposes it is set, one context that has it is made, and the flag is cleared again.
 * Where that is not possible, nothing is paced and everything works as before.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Received bytes between two young-generation collections. */
export const COLLECT_EVERY_BYTES = 16 * 1024 * 1024;

export type YoungCollector = () => void;

/** undefined: not looked up yet; null: not available here. */
let v8Collector: YoungCollector | null | undefined;

/** V8's young-generation collection, or null where it cannot be had. Looked up once. */
export function v8YoungCollector(): YoungCollector | null {
  if (v8Collector !== undefined) return v8Collector;
  v8Collector = null;
  try {
    let gc: unknown = (globalThis as { gc?: unknown }).gc; // the process runs with --expose-gc
    // started with --expose-gc-as=NAME (or the like): its flags are left as they are
    const ownFlags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => /--expose[-_]gc/.test(arg));
    if (typeof gc !== 'function' && !ownFlags) {
      setFlagsFromString('--expose-gc');
      try {
        gc = runInNewContext('gc');
      } finally {
        setFlagsFromString('--no-expose-gc');
      }
    }
    if (typeof gc === 'function') {
      const collect = gc as (options: { type: 'minor' }) => void;
      v8Collector = () => collect({ type: 'minor' });
    }
  } catch {
    v8Collector = null;
  }
  return v8Collector;
}

/** Counts received bytes and collects the young generation each time `everyBytes` more came in. */
export class YoungCollectionPacer {
  private since = 0;

  constructor(
    private readonly everyBytes: number = COLLECT_EVERY_BYTES,
    private readonly collect: () => YoungCollector | null = v8YoungCollector,
  ) {}

  /** `bytes` more arrived in buffers of their own (now garbage, or soon). */
  received(bytes: number): void {
    this.since += bytes;
    if (this.since < this.everyBytes) return;
    this.since = 0;
    this.collect()?.();
  }
}

/** The process-wide pacer: every stream of received bytes counts towards the same collections. */
export const receivedBuffers = new YoungCollectionPacer();
