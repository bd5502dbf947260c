/**
 * Raw-deflate decoding for extraction, synchronous and into buffers the caller owns, with one
 * zlib engine reused for every entry of a zip.
 *
 * Why not `inflateRawSync` or a stream: `inflateRawSync` builds a new engine (a stream object,
 * a native context, its 32 KiB window) and a new output buffer for every entry, and a stream
 * inflates on the threadpool. For a package of thousands of files, that garbage and those
 * thread hand-offs cost more than the inflating itself, and fresh memory is expensive to touch
 * on virtual machines (each new page is a fault). Here the engine is reset between entries and
 * inflates straight into a buffer that is used over and over.
 *
 * This drives node:zlib's native handle (`_handle.writeSync`, `_handle.reset`, `_writeState`),
 * the same internals minizlib (npm's tar) relies on. They are checked once, when the first
 * inflater is opened; where they are missing, `openRawInflater` returns undefined and the
 * caller uses the public API instead (zip-extract.ts).
 */
import { InflateRaw, constants } from 'node:zlib';

/** The parts of node:zlib's native handle used here (lib/zlib.js, src/node_zlib.cc). */
interface NativeZlib {
  writeSync(flush: number, input: Buffer, inOffset: number, inLength: number, out: Buffer, outOffset: number, outLength: number): void;
  reset(): void;
  close(): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

interface EngineInternals {
  _handle?: unknown;
  _writeState?: unknown;
}

/** An inflate failure: the message and zlib code (`Z_DATA_ERROR`, `Z_BUF_ERROR`, ...) node:zlib reported. */
export class InflateFailure extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'InflateFailure';
  }
}

let internalsUsable: boolean | undefined;

/**
 * A new inflater, or undefined when this Node's zlib does not expose the internals it needs
 * (then it never will in this process: the check runs once). Close it when done.
 */
export function openRawInflater(): RawInflater | undefined {
  const engine = openEngine();
  return engine === undefined ? undefined : new RawInflater(engine);
}

/** An InflateRaw stream object and the internals of it that are driven here. */
interface Engine {
  stream: InflateRaw;
  handle: NativeZlib;
  state: Uint32Array;
}

function openEngine(): Engine | undefined {
  if (internalsUsable === false) return undefined;
  const stream = new InflateRaw();
  const { _handle: handle, _writeState: state } = stream as unknown as EngineInternals;
  const usable =
    typeof handle === 'object' &&
    handle !== null &&
    typeof (handle as Partial<NativeZlib>).writeSync === 'function' &&
    typeof (handle as Partial<NativeZlib>).reset === 'function' &&
    state instanceof Uint32Array &&
    state.length >= 2;
  internalsUsable = usable;
  if (!usable) {
    stream.close();
    return undefined;
  }
  return { stream, handle: handle as NativeZlib, state };
}

/** Only for tests: forget the result of the internals check (`usable` forces it). */
export function resetInflaterCheck(usable?: boolean): void {
  internalsUsable = usable;
}

/**
 * One raw-deflate stream at a time: `start()` begins a new one (an entry), `inflate()` feeds it
 * input and hands every piece of output to a callback. After a failure the engine is replaced.
 */
export class RawInflater {
  private failure: InflateFailure | undefined;
  private closed = false;
  /** `start()` must reset the engine: it has seen input since it was made or reset */
  private used = false;

  constructor(private engine: Engine) {
    this.listen();
  }

  /** Begins a new deflate stream. */
  start(): void {
    if (this.closed) throw new Error('the inflater is closed');
    if (this.failure !== undefined) this.replace();
    else if (this.used) this.engine.handle.reset();
    this.used = false;
  }

  /**
   * Inflates `input` into `out`, calling `emit` with each filled part of `out` (the same memory
   * is used again once `emit` returns; `emit` may throw to stop). `final` marks the stream's
   * last input: it then must end within it (else `InflateFailure` Z_BUF_ERROR, "unexpected end
   * of file"). Bytes after the stream's end are ignored, like node:zlib does. Throws
   * `InflateFailure` on damaged data. Runs until all of `input` is taken: for output of a bounded
   * size (a small entry); large entries use `inflateSome`, which stops at every full buffer.
   */
  inflate(input: Buffer, final: boolean, out: Buffer, emit: (chunk: Buffer) => void): void {
    let offset = 0;
    for (;;) {
      const { read, written } = this.inflateSome(offset === 0 ? input : input.subarray(offset), final, out);
      offset += read;
      if (written > 0) emit(out.subarray(0, written));
      // output space left over: zlib took all the input it could (or the stream ended)
      if (written < out.length) return;
    }
  }

  /**
   * One step: inflates from `input` into `out` until `out` is full or the input is used up (or
   * the stream ended). Returns the input bytes taken and the output bytes written to the start
   * of `out`. When `written` equals `out.length`, call again with the rest of the input (maybe
   * none): zlib may hold more output. Throws like `inflate`.
   */
  inflateSome(input: Buffer, final: boolean, out: Buffer): { read: number; written: number } {
    if (this.closed) throw new Error('the inflater is closed');
    if (this.failure !== undefined) throw this.failure;
    if (out.length === 0) throw new RangeError('the output buffer is empty');
    this.used = true;
    const { handle, state } = this.engine;
    handle.writeSync(final ? constants.Z_FINISH : constants.Z_NO_FLUSH, input, 0, input.length, out, 0, out.length);
    if (this.failure !== undefined) throw this.failure;
    return { read: input.length - (state[1] as number), written: out.length - (state[0] as number) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.engine.stream.close();
  }

  private listen(): void {
    // instead of node:zlib's handler, which destroys the stream object (emitting 'error' with no listener)
    this.engine.handle.onerror = (message: string, _errno: number, code?: string) => {
      this.failure = new InflateFailure(message, code);
    };
  }

  private replace(): void {
    this.engine.stream.close();
    const next = openEngine();
    if (next === undefined) throw new Error('node:zlib internals changed while in use');
    this.engine = next;
    this.failure = undefined;
    this.listen();
  }
}
