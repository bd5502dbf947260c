import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * The files of a tentacle's home folder (`--home`, mode 0700):
 *   tentacle-key.pem  the tentacle's EC P-256 private key, PKCS#8 PEM, mode 0600
 *   tentacle-pub.pem  its public key, SPKI PEM (what the hub stores)
 *   hub-cert.pem      the hub's certificate pinned at registration
 *   tentacle.json     the registration; written last, so its presence means "registered"
 */
export const HOME_FILES = {
  privateKey: 'tentacle-key.pem',
  publicKey: 'tentacle-pub.pem',
  hubCert: 'hub-cert.pem',
  config: 'tentacle.json',
} as const;

export const HOME_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
export const PUBLIC_FILE_MODE = 0o644;

export type HomePaths = { [K in keyof typeof HOME_FILES]: string };

export function homePaths(home: string): HomePaths {
  return {
    privateKey: path.join(home, HOME_FILES.privateKey),
    publicKey: path.join(home, HOME_FILES.publicKey),
    hubCert: path.join(home, HOME_FILES.hubCert),
    config: path.join(home, HOME_FILES.config),
  };
}

/**
 * Writes `file` so that readers see the old content or the new one, never a part: a fresh
 * temp file (flag `wx`, so nothing is followed or reused) with `mode`, fsync, then rename.
 */
export async function writeFileAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    try {
      await handle.chmod(mode); // the umask may have taken bits away; put back exactly these
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
}
