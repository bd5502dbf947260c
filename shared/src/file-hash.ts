/**
 * Feeding a whole file into a hash, as the hub (checking an upload), the tentacle (checking its
 * cached packages) and the CLI (checking what it pushed) all do.
 */
import type { Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Read size: one buffer, used over and over (a fresh one per read costs page faults on large files). */
const HASH_READ_BYTES = 256 * 1024;

/**
 * Feeds every byte of `file` into `hash` and resolves to how many there were. Rejects with the
 * signal's reason when it is aborted, or with the file system's error.
 */
export async function hashFile(file: string, hash: Hash, signal?: AbortSignal): Promise<number> {
  signal?.throwIfAborted();
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(HASH_READ_BYTES);
    for (let bytes = 0; ; ) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      signal?.throwIfAborted();
      if (bytesRead === 0) return bytes;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
