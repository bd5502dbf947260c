import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { EXIT } from '@cuttle/shared';
import { TentacleError } from '../tentacle-error.js';
import { homePaths, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, writeFileAtomic } from './home-files.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface TentacleKeyPair {
  privateKey: KeyObject;
  /** SPKI PEM, what the registration sends */
  publicKeyPem: string;
  /** true when this call made the key (false: an existing one was reused) */
  created: boolean;
}

/**
 * The tentacle's key pair in `home`: reused when `tentacle-key.pem` exists, otherwise made
 * (EC P-256) and written owner-only. The public key file is (re)written from the private key.
 */
export async function loadOrCreateKeyPair(home: string): Promise<TentacleKeyPair> {
  const paths = homePaths(home);
  let privateKey = await readPrivateKey(paths.privateKey);
  let created = false;
  if (privateKey === null) {
    const pair = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' });
    await writeFileAtomic(paths.privateKey, typeof pem === 'string' ? pem : pem.toString('utf8'), PRIVATE_FILE_MODE);
    privateKey = pair.privateKey;
    created = true;
  }
  const publicKeyPem = publicPemOf(privateKey);
  const existing = await readFile(paths.publicKey, 'utf8').catch(() => null);
  if (existing !== publicKeyPem) await writeFileAtomic(paths.publicKey, publicKeyPem, PUBLIC_FILE_MODE);
  return { privateKey, publicKeyPem, created };
}

/** The private key of a registered home; a clear error when it is missing or not P-256. */
export async function loadPrivateKey(home: string): Promise<KeyObject> {
  const file = homePaths(home).privateKey;
  const key = await readPrivateKey(file);
  if (key === null) throw new TentacleError('invalid-home', `the tentacle's private key ${file} is missing; register this tentacle again`, EXIT.usage);
  return key;
}

export function publicPemOf(privateKey: KeyObject): string {
  const pem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' });
  return typeof pem === 'string' ? pem : pem.toString('utf8');
}

async function readPrivateKey(file: string): Promise<KeyObject | null> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TentacleError('invalid-home', `cannot read the tentacle's private key ${file}: ${(error as Error).message}`, EXIT.usage, { cause: error });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new TentacleError('invalid-home', `${file} is not a readable private key`, EXIT.usage, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TentacleError('invalid-home', `${file} is not an EC P-256 key (ES256 needs one)`, EXIT.usage);
  }
  return key;
}
