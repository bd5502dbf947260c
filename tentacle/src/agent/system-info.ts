import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { OsInfoSchema, type OsInfo } from '@cuttle/shared';

/** OS facts for the hello. Read once and shared: they do not change while the process runs. */
export function readOsInfo(): OsInfo {
  const info = {
    platform: os.platform().slice(0, 64),
    release: os.release().slice(0, 128),
    arch: os.arch().slice(0, 32),
    hostname: os.hostname().slice(0, 255),
  };
  const parsed = OsInfoSchema.safeParse(info);
  return parsed.success ? parsed.data : { platform: 'unknown', release: 'unknown', arch: 'unknown', hostname: 'unknown' };
}

/** Bytes an unprivileged user may still write where `dir` lives; null when unknown. */
export async function freeDiskBytes(dir: string): Promise<number | null> {
  try {
    const fs = await statfs(dir);
    const bytes = fs.bavail * fs.bsize;
    return Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : null;
  } catch {
    return null;
  }
}
