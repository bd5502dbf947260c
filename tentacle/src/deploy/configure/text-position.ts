/** `line 3, column 7` (both from 1) of a character offset in `text`. */
export function describePosition(text: string, offset: number): string {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${end - lineStart + 1}`;
}
