import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from './secret-box.js';

describe('the secret box (AES-256-GCM)', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens what it sealed, with a fresh IV each time', () => {
    const a = box.seal('Password=s3cret;', 'name');
    const b = box.seal('Password=s3cret;', 'name');
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(box.open(a, 'name')).toBe('Password=s3cret;');
    expect(box.open(box.seal('', 'x'), 'x')).toBe('');
  });

  it('refuses a changed ciphertext, another binding or another key', () => {
    const sealed = box.seal('top secret', 'Db.Password');
    const [format, iv, tag, ct] = sealed.split(':');
    const bytes = Buffer.from(ct!, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    const tampered = [format, iv, tag, bytes.toString('base64')].join(':');
    expect(() => box.open(tampered, 'Db.Password')).toThrow(/could not be decrypted/);
    expect(() => box.open(sealed, 'Other.Name')).toThrow(/could not be decrypted/);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'Db.Password')).toThrow(/could not be decrypted/);
    expect(() => box.open('garbage', 'Db.Password')).toThrow(/damaged/);
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});
