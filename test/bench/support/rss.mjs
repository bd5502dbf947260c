// Resident memory of another process, sampled from /proc/<pid>/status (Linux only).
import { readFileSync } from 'node:fs';

/** How often the sampler reads the RSS. */
export const RSS_SAMPLE_INTERVAL_MS = 25;

/**
 * VmRSS of `pid` in bytes, or undefined where /proc is not available or the process is gone.
 * @param {number} pid
 */
export function readRss(pid) {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts sampling now: `baseline` is the RSS at start; `stop()` takes a last sample and
 * returns the peak seen and the growth over the baseline (undefined without /proc).
 * @param {number} pid
 */
export function sampleRss(pid) {
  const baseline = readRss(pid);
  let peak = baseline;
  let samples = baseline === undefined ? 0 : 1;
  const take = () => {
    const rss = readRss(pid);
    if (rss === undefined) return;
    samples += 1;
    peak = peak === undefined ? rss : Math.max(peak, rss);
  };
  const timer = setInterval(take, RSS_SAMPLE_INTERVAL_MS);
  return {
    baseline,
    stop() {
      clearInterval(timer);
      take();
      const growth = baseline === undefined || peak === undefined ? undefined : peak - baseline;
      return { baseline, peak, growth, samples };
    },
  };
}
