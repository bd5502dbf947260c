import { StringDecoder } from 'node:string_decoder';

/** Cuts a line to `max` characters (the last one an ellipsis), never between a surrogate pair. */
export function cutLine(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * Turns a byte stream into lines: UTF-8 decoded (invalid sequences become U+FFFD), split at "\n"
 * (a trailing "\r" dropped), lines longer than `max` cut, and the rest of such a line skipped
 * without being held in memory. end() emits a last line without a line break.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  /** the current line was emitted cut: skip to its end */
  private skipping = false;

  constructor(
    private readonly emit: (line: string) => void,
    private readonly max: number,
  ) {}

  write(chunk: Buffer): void {
    this.take(this.decoder.write(chunk));
  }

  end(): void {
    this.take(this.decoder.end());
    if (!this.skipping && this.partial !== '') this.line(this.partial);
    this.partial = '';
    this.skipping = false;
  }

  private take(text: string): void {
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      if (this.skipping) this.skipping = false;
      else this.line(this.partial === '' ? text.slice(start, newline) : this.partial + text.slice(start, newline));
      this.partial = '';
      start = newline + 1;
    }
    if (this.skipping || start === text.length) return;
    this.partial += text.slice(start);
    if (this.partial.length > this.max) {
      this.emit(cutLine(this.partial, this.max));
      this.partial = '';
      this.skipping = true;
    }
  }

  private line(text: string): void {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    this.emit(cutLine(line, this.max));
  }
}
