import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat after the command name, which may itself hold spaces and ")". */
function procStatFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

const hasProc = (): boolean => process.platform === 'linux';

/**
 * What tells this process apart from a later one that got the same PID: on Linux its start time
 * in clock ticks since boot (field 22 of /proc/<pid>/stat; the same across exec), elsewhere the
 * start time `ps` prints. Null when the process does not exist (or nothing can tell).
 */
export function processStartTime(pid: number): string | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  if (hasProc()) {
    // fields after the name start at field 3 (state): field 22 is index 19
    const start = procStatFields(pid)?.[19];
    return start === undefined || start === '' ? null : `linux:${start}`;
  }
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim();
    return out === '' ? null : `ps:${out}`;
  } catch {
    return null;
  }
}

/**
 * Whether any process of group `pgid` still runs (zombies, which wait only to be reaped, do not
 * count on Linux; elsewhere they may).
 */
export function groupAlive(pgid: number): boolean {
  if (!hasProc()) {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (error) {
      // EPERM: the group exists but is not ours to signal
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return false;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const fields = procStatFields(Number(name));
    // index 0 is the state (field 3), index 2 the process group (field 5)
    if (fields !== null && fields[2] === String(pgid) && fields[0] !== 'Z') return true;
  }
  return false;
}
