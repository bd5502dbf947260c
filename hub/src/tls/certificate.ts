import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** `sha256:AB:CD:...`, what tentacles pin */
  fingerprint: string;
}

export function fingerprintOf(certPem: string): string {
  return `sha256:${new X509Certificate(certPem).fingerprint256}`;
}

/**
 * The tentacle port's certificate: the operator's (--tls-cert/--tls-key) or a self-signed
 * one made on first start and kept in `<data>/tls/` (key readable by the owner only).
 */
export async function loadOrCreateTls(dataDir: string, certFile: string | null, keyFile: string | null): Promise<TlsMaterial> {
  if (certFile && keyFile) {
    const cert = readFileSync(certFile, 'utf8');
    const key = readFileSync(keyFile, 'utf8');
    return { cert, key, fingerprint: fingerprintOf(cert) };
  }
  const dir = path.join(dataDir, 'tls');
  const certPath = path.join(dir, 'hub-cert.pem');
  const keyPath = path.join(dir, 'hub-key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    return { cert, key: readFileSync(keyPath, 'utf8'), fingerprint: fingerprintOf(cert) };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pems = await generate([{ name: 'commonName', value: 'cuttle-hub' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 60_000),
    notAfterDate: new Date(Date.now() + 20 * 365 * 24 * 3600 * 1000),
  });
  // key first, then cert: a crash between them leaves no cert without its key
  writeAtomically(keyPath, pems.private, 0o600);
  writeAtomically(certPath, pems.cert, 0o644);
  return { cert: pems.cert, key: pems.private, fingerprint: fingerprintOf(pems.cert) };
}

function writeAtomically(file: string, content: string, mode: number): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content, { mode, flag: 'w' });
  renameSync(tmp, file);
}
