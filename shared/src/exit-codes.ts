/**
 * Process exit codes of Cuttle's binaries, `cuttle` and `cuttle-tentacle` alike (see
 * CONTRACT.md): 0 success, 1 the operation failed, 2 usage or validation error, 3 the hub
 * could not be reached or refused the credentials. Only each binary's `main.ts` turns them
 * into a process exit.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
