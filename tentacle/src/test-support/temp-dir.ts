import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Temp folders under os.tmpdir(), all removed by cleanup(). */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(prefix = 'cuttle-tentacle-test-'): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
