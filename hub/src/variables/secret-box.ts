import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CuttleError } from '@cuttle/shared';

export const MASTER_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

/**
 * AES-256-GCM under the hub's master key. Every value gets a fresh random 96-bit IV; the text
 * form is `v1:<iv>:<tag>:<ciphertext>` (base64). The additional authenticated data binds a
 * ciphertext to what it is the value of, so a stored secret moved to another variable fails to open.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== MASTER_KEY_BYTES) throw new Error(`the master key must be ${MASTER_KEY_BYTES} bytes, not ${key.length}`);
    this.key = Buffer.from(key);
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
  }

  /** Throws `internal` when the text is damaged, was sealed under another key or for other data. */
  open(sealed: string, aad: string): string {
    const parts = sealed.split(':');
    const [format, iv, tag, ciphertext] = parts;
    if (parts.length !== 4 || format !== FORMAT || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new CuttleError('internal', 'A stored secret is damaged (unknown format).');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new CuttleError('internal', 'A stored secret could not be decrypted: it was changed, or sealed under another master key.');
    }
  }
}
