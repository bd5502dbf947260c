/** Every limit and timing of the tentacle's deployment side, in one place. */
export const DEPLOY_DEFAULTS = {
  /** A cached package not used for this long is removed after a deployment. */
  cacheMaxUnusedMs: 14 * 24 * 3600 * 1000,
  /** Below this much free disk the least recently used cached packages are removed ... */
  cacheMinFreeBytes: 1024 ** 3,
  /** ... or below this share of the disk. */
  cacheMinFreeRatio: 0.1,
  /**
   * A killed script (timeout, cancel, lost connection; at start-up, one a killed tentacle left
   * running) gets SIGTERM, then SIGKILL this much later.
   */
  killGraceMs: 5_000,
  /** After a script exits, output still held by its background children is read this much longer. */
  outputDrainMs: 1_000,
  /** The package file write may hold this much before the socket is paused... */
  receiveHighWaterBytes: 4 * 1024 * 1024,
  /** A script's output is paused while the socket holds this much unsent. */
  logHighWaterBytes: 4 * 1024 * 1024,
  /**
   * A job's script output (stdout and stderr of all its scripts) past this many lines ... is
   * dropped after one line that says so; the tentacle's own lines still go. Saves bandwidth (the
   * hub caps a job's log too).
   */
  maxJobOutputLines: 100_000,
  /** ... or this many bytes (UTF-8, a line break counted for each line). */
  maxJobOutputBytes: 50 * 1024 * 1024,
  /** Configuration (substitution, transform files, structured replacement) skips or refuses larger files. */
  maxConfigFileBytes: 64 * 1024 * 1024,
  /** Jobs that ended recently: late chunks for them are dropped without an error reply. */
  recentJobsRemembered: 256,
} as const;

export type DeployDefaults = { -readonly [K in keyof typeof DEPLOY_DEFAULTS]: number };
