import { PROTOCOL_LIMITS, type JobLogLine, type LogStream } from '@cuttle/shared';
import type { HubChannel } from '../agent/job-handler.js';
import { DEPLOY_DEFAULTS } from './deploy-defaults.js';
import { NO_SECRETS, type SecretMasker } from './secret-masker.js';

/** Most lines per job-log message (the schema's limit). */
const MAX_LINES = 200;
/** Room left in a control message for everything around the lines. */
const ENVELOPE_BYTES = 1024;

export interface OutputLimits {
  /** script output lines per job before the rest is dropped */
  lines: number;
  /** script output bytes per job before the rest is dropped */
  bytes: number;
}

/**
 * The log of one job on its way to the hub: lines are batched into job-log messages of at most
 * 200 lines, maxLogBatchChars characters and (JSON-encoded) maxControlMessageBytes bytes, sent as a
 * batch fills and at least every logFlushIntervalMs. Every line is masked before it is cut to
 * maxLogLineChars (the job's sensitive values become SENSITIVE_MASK). Anything else the job sends goes through
 * `send`, which flushes first so that the hub sees lines and phases in order.
 * Script output (stdout, stderr) past `outputLimits` is dropped after one warn line that says so;
 * the tentacle's own info/warn/error lines always go.
 */
export class JobLog {
  private lines: JobLogLine[] = [];
  private chars = 0;
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private outputLines = 0;
  private outputBytes = 0;
  private dropping = false;

  constructor(
    private readonly channel: HubChannel,
    private readonly jobId: string,
    private readonly highWaterBytes: number,
    private readonly flushIntervalMs: number = PROTOCOL_LIMITS.logFlushIntervalMs,
    /** applied to every line before it is cut and sent: masks the job's secrets */
    private readonly masker: SecretMasker = NO_SECRETS,
    private readonly outputLimits: OutputLimits = { lines: DEPLOY_DEFAULTS.maxJobOutputLines, bytes: DEPLOY_DEFAULTS.maxJobOutputBytes },
  ) {}

  /** `text` with the job's secrets masked. */
  mask(text: string): string {
    return this.masker.mask(text);
  }

  /**
   * How many characters of a script's output line to read before skipping the rest: past the cut at
   * maxLogLineChars by the longest secret, so that a secret across the cut is masked whole.
   */
  get lineReadChars(): number {
    return PROTOCOL_LIMITS.maxLogLineChars + this.masker.reach;
  }

  /** True once the job's script output reached its limit: further output is dropped unread. */
  get droppingOutput(): boolean {
    return this.dropping;
  }

  info(text: string): void {
    this.line('info', text);
  }

  warn(text: string): void {
    this.line('warn', text);
  }

  error(text: string): void {
    this.line('error', text);
  }

  line(stream: LogStream, text: string): void {
    if (stream === 'stdout' || stream === 'stderr') {
      if (this.dropping) return;
      this.outputLines += 1;
      this.outputBytes += Buffer.byteLength(text) + 1;
      if (this.outputLines > this.outputLimits.lines || this.outputBytes > this.outputLimits.bytes) {
        this.dropping = true;
        this.warn(`output truncated: further output of this job is dropped (limit ${this.outputLimits.lines} lines or ${sizeText(this.outputLimits.bytes)})`);
        return;
      }
    }
    const entry: JobLogLine = { at: new Date().toISOString(), stream, text: this.masker.maskLine(text, PROTOCOL_LIMITS.maxLogLineChars) };
    const bytes = Buffer.byteLength(JSON.stringify(entry));
    if (this.chars + entry.text.length > PROTOCOL_LIMITS.maxLogBatchChars || this.bytes + bytes > PROTOCOL_LIMITS.maxControlMessageBytes - ENVELOPE_BYTES) {
      this.flush();
    }
    this.lines.push(entry);
    this.chars += entry.text.length;
    this.bytes += bytes + 1;
    if (this.lines.length >= MAX_LINES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushIntervalMs);
  }

  /** Sends the buffered lines now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.lines.length === 0) return;
    const lines = this.lines;
    this.lines = [];
    this.chars = 0;
    this.bytes = 0;
    this.channel.send({ type: 'job-log', jobId: this.jobId, lines });
  }

  /** True while the socket holds more unsent bytes than a script's output should add to. */
  congested(): boolean {
    return !this.channel.closed && this.channel.bufferedAmount() > this.highWaterBytes;
  }

  /** Sends buffered lines, then `message`: job-status and job-result keep their place after the lines. */
  send(message: Parameters<HubChannel['send']>[0]): void {
    this.flush();
    this.channel.send(message);
  }

  close(): void {
    this.flush();
  }
}

const MIB = 1024 * 1024;

/** "50 MiB", or "1000 bytes" for a limit that is not whole MiB. */
function sizeText(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`;
}
