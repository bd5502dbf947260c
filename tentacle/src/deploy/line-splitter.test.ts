import { describe, expect, it } from 'vitest';
import { cutLine, LineSplitter } from './line-splitter.js';

function split(chunks: Buffer[], max = 10): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), max);
  for (const chunk of chunks) splitter.write(chunk);
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('splits at newlines across chunks, drops \\r, and emits a last line without a newline', () => {
    expect(split([Buffer.from('ab\r\ncd'), Buffer.from('e\n\nf')])).toEqual(['ab', 'cde', '', 'f']);
  });

  it('decodes UTF-8 split across chunks and replaces invalid bytes', () => {
    const euro = Buffer.from('€\n');
    expect(split([euro.subarray(0, 1), euro.subarray(1)])).toEqual(['€']);
    expect(split([Buffer.from([0xff, 0x61, 0x0a])])).toEqual(['\ufffda']);
  });

  it('cuts a long line at max characters and skips its rest without holding it', () => {
    expect(split([Buffer.from('0123456789abc'), Buffer.from('def\nnext\n')])).toEqual(['012345678…', 'next']);
  });

  it('never cuts between a surrogate pair', () => {
    expect(cutLine('abcdefgh😀xyz', 10)).toBe('abcdefgh…');
    expect(cutLine('short', 10)).toBe('short');
  });
});
