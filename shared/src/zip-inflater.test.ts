import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { InflateFailure, RawInflater, openRawInflater, resetInflaterCheck } from './zip-inflater.js';

const text = (bytes: number, seed = 'x'): Buffer => Buffer.from(`${seed} ${randomBytes(bytes).toString('base64')}`.slice(0, bytes));

/** Inflates `input` fed in pieces of `pieceSize` through an output buffer of `outSize`, collecting a copy of every chunk. */
function inflateAll(inflater: RawInflater, input: Buffer, pieceSize: number, outSize: number): Buffer {
  const chunks: Buffer[] = [];
  const out = Buffer.alloc(outSize);
  inflater.start();
  for (let at = 0; at < input.length; at += pieceSize) {
    inflater.inflate(input.subarray(at, at + pieceSize), at + pieceSize >= input.length, out, (chunk) => chunks.push(Buffer.from(chunk)));
  }
  return Buffer.concat(chunks);
}

/** Length and SHA-256, compared instead of the bytes (deep equality of large buffers is slow). */
const digest = (bytes: Buffer): string => `${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex')}`;

let open: RawInflater | undefined;
const inflater = (): RawInflater => {
  open = openRawInflater();
  if (open === undefined) throw new Error('node:zlib internals are not usable on this Node');
  return open;
};

afterEach(() => {
  open?.close();
  open = undefined;
  resetInflaterCheck();
});

describe('RawInflater', () => {
  it('is available on this Node (the check of node:zlib internals passes)', () => {
    expect(inflater()).toBeInstanceOf(RawInflater);
  });

  it('inflates many streams one after another with one engine, each exactly', () => {
    const engine = inflater();
    for (let i = 0; i < 200; i++) {
      const data = i % 7 === 0 ? randomBytes(1 + i * 13) : text(1 + i * 97, String(i));
      expect(digest(inflateAll(engine, deflateRawSync(data), 1 << 20, data.length + 1))).toBe(digest(data));
    }
  });

  it('streams a large input fed in pieces through a small output buffer', () => {
    const data = Buffer.concat([text(3 << 20), randomBytes(1 << 20)]);
    const packed = deflateRawSync(data);
    const chunks: number[] = [];
    const out = Buffer.alloc(64 * 1024);
    const engine = inflater();
    engine.start();
    const pieces: Buffer[] = [];
    for (let at = 0; at < packed.length; at += 100_000) {
      engine.inflate(packed.subarray(at, at + 100_000), at + 100_000 >= packed.length, out, (chunk) => {
        chunks.push(chunk.length);
        pieces.push(Buffer.from(chunk));
      });
    }
    expect(digest(Buffer.concat(pieces))).toBe(digest(data));
    expect(Math.max(...chunks)).toBe(out.length); // output came a bufferful at a time
  });

  it('refuses a stream that ends early when its last input is marked final', () => {
    const packed = deflateRawSync(text(50_000));
    const engine = inflater();
    engine.start();
    let error: unknown;
    try {
      engine.inflate(packed.subarray(0, packed.length - 10), true, Buffer.alloc(100_000), () => undefined);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InflateFailure);
    expect((error as InflateFailure).code).toBe('Z_BUF_ERROR');
  });

  it('refuses damaged data, then inflates the next stream with a fresh engine', () => {
    const engine = inflater();
    const broken = Buffer.from(deflateRawSync(text(1000)));
    broken.fill(0xff, 0, 4); // block type 0b11 is reserved
    engine.start();
    expect(() => engine.inflate(broken, true, Buffer.alloc(2000), () => undefined)).toThrow(InflateFailure);
    // the failure sticks until the next stream starts
    expect(() => engine.inflate(deflateRawSync(text(10)), true, Buffer.alloc(20), () => undefined)).toThrow(InflateFailure);
    const data = text(5000, 'after');
    expect(digest(inflateAll(engine, deflateRawSync(data), 1 << 20, data.length + 1))).toBe(digest(data));
  });

  it('stops when the output callback throws, and the next stream still starts clean', () => {
    const engine = inflater();
    const data = text(300_000);
    engine.start();
    const stop = new Error('enough');
    expect(() =>
      engine.inflate(deflateRawSync(data), true, Buffer.alloc(1000), () => {
        throw stop;
      }),
    ).toThrow(stop);
    const next = text(4000, 'next');
    expect(digest(inflateAll(engine, deflateRawSync(next), 1 << 20, next.length + 1))).toBe(digest(next));
  });

  it('ignores bytes after the end of the stream, like node:zlib does', () => {
    const data = text(2000);
    const engine = inflater();
    expect(digest(inflateAll(engine, Buffer.concat([deflateRawSync(data), Buffer.from('trailing bytes')]), 1 << 20, data.length + 1))).toBe(digest(data));
  });

  it('inflateSome stops at every full output buffer and says how much input it took', () => {
    // 8 MiB of zeros packs to about 8 KiB: one call with all of it must still stop at each full buffer
    const data = Buffer.alloc(8 * 1024 * 1024);
    const packed = deflateRawSync(data);
    const out = Buffer.alloc(1024 * 1024);
    const engine = inflater();
    engine.start();
    let taken = 0;
    let produced = 0;
    let calls = 0;
    for (;;) {
      const { read, written } = engine.inflateSome(packed.subarray(taken), true, out);
      calls++;
      taken += read;
      produced += written;
      expect(written).toBeLessThanOrEqual(out.length);
      if (written < out.length) break;
    }
    expect(produced).toBe(data.length);
    expect(taken).toBe(packed.length);
    expect(calls).toBeGreaterThanOrEqual(8);
    expect(() => engine.inflateSome(packed, true, Buffer.alloc(0))).toThrow(RangeError);
  });

  it('refuses use after close', () => {
    const engine = inflater();
    engine.close();
    expect(() => engine.start()).toThrow(/closed/);
  });
});
