// Sizes, rates and small statistics for benchmark options and reports.

export const MiB = 1024 ** 2;

const UNITS = { '': 1, b: 1, k: 1024, kib: 1024, m: MiB, mib: MiB, g: 1024 ** 3, gib: 1024 ** 3 };

/**
 * Parses "1GiB", "64MiB", "512KiB", "1g" or a plain byte count (binary units throughout).
 * @param {string} text
 * @returns {number | undefined} bytes, or undefined when it does not parse
 */
export function parseSize(text) {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = match ? UNITS[/** @type {keyof UNITS} */ (match[2].toLowerCase())] : undefined;
  if (!match || factor === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** @param {number} bytes */
export function formatBytes(bytes) {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** @param {number[]} values */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** MiB per second for `bytes` moved in `ms` milliseconds. @param {number} bytes @param {number} ms */
export function mibPerSecond(bytes, ms) {
  return bytes / MiB / (ms / 1000);
}

/** Rounds to `digits` decimals, for the JSON result line. @param {number} value */
export function round(value, digits = 2) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
