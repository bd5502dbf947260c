// Deterministic randomness for benchmark fixtures, so that two runs build the same package:
// a small seeded PRNG for choices and sizes, and an AES-CTR keystream for incompressible bytes.
import { createCipheriv, createHash } from 'node:crypto';

/**
 * mulberry32: a fast 32-bit PRNG; plenty for picking sizes and words (not for secrets).
 * @param {number} seed
 */
export function createRandom(seed) {
  let state = seed >>> 0;
  /** A float in [0, 1). */
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** A whole number from min to max, both included. @param {number} min @param {number} max */
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    /** @template T @param {readonly T[]} items @returns {T} */
    pick: (items) => /** @type {T} */ (items[Math.floor(next() * items.length)]),
    /** A log-normal sample with the given median and spread (sigma of the underlying normal). @param {number} median @param {number} sigma */
    logNormal: (median, sigma) => {
      const u = Math.max(next(), Number.EPSILON);
      const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
      return median * Math.exp(sigma * normal);
    },
  };
}

/** @typedef {ReturnType<typeof createRandom>} Random */

/**
 * Incompressible bytes that depend only on `label`: the AES-128-CTR keystream under a key
 * derived from it. Call `fill(buffer, length)` repeatedly to continue the stream.
 * @param {string} label
 */
export function createByteStream(label) {
  const digest = createHash('sha256').update(label).digest();
  const cipher = createCipheriv('aes-128-ctr', digest.subarray(0, 16), digest.subarray(16, 32));
  return {
    /** Overwrites buffer[0, length) with the next bytes of the stream. @param {Buffer} buffer @param {number} length */
    fill(buffer, length) {
      buffer.fill(0, 0, length);
      const out = cipher.update(buffer.subarray(0, length));
      out.copy(buffer, 0);
    },
  };
}
