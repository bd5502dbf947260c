import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { MASTER_KEY_BYTES, SecretBox } from './secret-box.js';
import type { VariableRepository } from './variable-repository.js';

export const MASTER_KEY_FILE = 'master.key';
const CHECK_TEXT = 'cuttle master key check';
const CHECK_AAD = 'cuttle-master-key-check';

/** A master key problem at start-up; the hub refuses to start with it (never a silently new key). */
export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
}

/** Base64 of exactly 32 bytes, or why not. */
export function parseMasterKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) && trimmed.length % 4 === 0 ? Buffer.from(trimmed, 'base64') : null;
  if (bytes === null || bytes.length !== MASTER_KEY_BYTES) {
    throw new MasterKeyError(
      `${where} is not a valid master key: it must be the base64 form of ${MASTER_KEY_BYTES} random bytes (for example the output of \`openssl rand -base64 32\`)`,
    );
  }
  return bytes;
}

export interface MasterKeySource {
  dataDir: string;
  /** CUTTLE_MASTER_KEY; wins over the file */
  envKey: string | null;
}

/**
 * The key that seals sensitive variables: CUTTLE_MASTER_KEY, else `<data>/master.key`. A key file
 * is created (mode 0600, never overwritten) only for a database that holds no check value and no
 * secret. The database keeps a check value sealed under the key, so a different key is refused
 * before any secret is read or written with it.
 */
export function loadMasterKey(source: MasterKeySource, repo: VariableRepository, now: string, log: Logger): SecretBox {
  const file = path.join(source.dataDir, MASTER_KEY_FILE);
  const check = repo.masterKeyCheck();
  let key: Buffer;
  let origin: string;
  if (source.envKey !== null) {
    key = parseMasterKey(source.envKey, 'CUTTLE_MASTER_KEY');
    origin = 'CUTTLE_MASTER_KEY';
  } else {
    const text = readKeyFile(file);
    if (text !== null) {
      key = parseMasterKey(text, `the master key file ${file}`);
      origin = file;
      warnIfOpen(file, log);
    } else {
      if (check !== null || repo.hasSecrets()) {
        throw new MasterKeyError(
          `the master key is missing: this database holds secrets sealed with a master key, but there is no ${file} and CUTTLE_MASTER_KEY is not set. ` +
            'Restore master.key from your backup (or set CUTTLE_MASTER_KEY); a new key could not open the stored secrets.',
        );
      }
      key = randomBytes(MASTER_KEY_BYTES);
      writeFileSync(file, `${key.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
      chmodSync(file, 0o600); // the umask may have taken bits away, never added: this makes it exact
      origin = file;
      log.info({ file }, 'created a new master key for sensitive variables: back it up, secrets cannot be read without it');
    }
  }
  const box = new SecretBox(key);
  if (check === null) {
    if (repo.hasSecrets()) {
      throw new MasterKeyError('the database holds secrets but no master key check value; it cannot tell whether this master key is the right one');
    }
    repo.saveMasterKeyCheck(box.seal(CHECK_TEXT, CHECK_AAD), now);
  } else {
    let opened: string | null = null;
    try {
      opened = box.open(check, CHECK_AAD);
    } catch {
      opened = null;
    }
    if (opened !== CHECK_TEXT) {
      throw new MasterKeyError(`the master key (from ${origin}) does not match the one this database was created with; use the original key`);
    }
  }
  return box;
}

function readKeyFile(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new MasterKeyError(`cannot read the master key file ${file}: ${(error as Error).message}`);
  }
}

function warnIfOpen(file: string, log: Logger): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) log.warn({ file }, 'the master key file can be read by other users; make it owner-only (chmod 600)');
  } catch {
    // read a moment ago; nothing to add
  }
}
