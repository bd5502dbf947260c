import { randomBytes } from 'node:crypto';
import { chmod, lstat, open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const BOM = '\ufeff';
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A text file's contents, without its byte order mark (kept aside so that it is written back). */
export interface TextFile {
  text: string;
  bom: boolean;
  mode: number;
}

export type ReadText = { ok: true; file: TextFile } | { ok: false; problem: string };

/**
 * Reads a file as UTF-8 text. A file with a NUL byte, invalid UTF-8, or more than `maxBytes` is
 * refused (`problem` says why), never half-read.
 */
export async function readTextFile(file: string, maxBytes: number): Promise<ReadText> {
  const info = await lstat(file);
  if (!info.isFile()) return { ok: false, problem: 'not a regular file' };
  if (info.size > maxBytes) return { ok: false, problem: `larger than ${maxBytes} bytes` };
  const handle = await open(file, 'r');
  let bytes: Buffer;
  try {
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  if (bytes.includes(0)) return { ok: false, problem: 'a binary file (it contains NUL bytes)' };
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, problem: 'not valid UTF-8 text' };
  }
  const bom = text.startsWith(BOM);
  return { ok: true, file: { text: bom ? text.slice(1) : text, bom, mode: info.mode & 0o7777 } };
}

/**
 * Replaces a file's contents with `data` (a text gets the byte order mark back when it had one) and
 * permission bits `mode`: written beside it and renamed over it, so a failure leaves the old
 * contents and a read-only file can be rewritten too.
 */
export async function writeReleaseFile(file: string, data: string | Buffer, options: { bom?: boolean; mode: number }): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.cuttle-config`);
  try {
    await writeFile(temp, typeof data === 'string' && options.bom === true ? BOM + data : data, { flag: 'wx', mode: 0o600 });
    // chmod after the write: the process umask must not change the mode the file had
    await chmod(temp, options.mode);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw error;
  }
}
