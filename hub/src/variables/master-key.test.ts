import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/open-database.js';
import { loadMasterKey, MASTER_KEY_FILE } from './master-key.js';
import { VariableRepository } from './variable-repository.js';

const log = pino({ level: 'silent' });
const NOW = '2026-01-01T00:00:00.000Z';

describe('the master key at start-up', () => {
  let dir: string;
  let db: Db;
  let repo: VariableRepository;
  const load = (envKey: string | null = null) => loadMasterKey({ dataDir: dir, envKey }, repo, NOW, log);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cuttle-key-'));
    db = openDatabase(path.join(dir, 'cuttle.db')).db;
    repo = new VariableRepository(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates an owner-only key file on first start and reads it back later', () => {
    const box = load();
    const file = path.join(dir, MASTER_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(repo.masterKeyCheck()).not.toBeNull();
    const sealed = box.seal('x', 'y');
    expect(load().open(sealed, 'y')).toBe('x');
  });

  it('refuses to start when the key file is gone but the database has a check value: never a new key', () => {
    load();
    rmSync(path.join(dir, MASTER_KEY_FILE));
    expect(() => load()).toThrow(/master key is missing/);
    expect(() => statSync(path.join(dir, MASTER_KEY_FILE))).toThrow(); // no new file was made
  });

  it('refuses a different key, from the file or from CUTTLE_MASTER_KEY', () => {
    load();
    expect(() => load(randomBytes(32).toString('base64'))).toThrow(/does not match the one this database was created with/);
    writeFileSync(path.join(dir, MASTER_KEY_FILE), randomBytes(32).toString('base64'));
    expect(() => load()).toThrow(/does not match/);
  });

  it('refuses a malformed key, and lets CUTTLE_MASTER_KEY win over the file', () => {
    expect(() => load('not base64!')).toThrow(/not a valid master key/);
    expect(() => load(randomBytes(16).toString('base64'))).toThrow(/not a valid master key/);
    const key = randomBytes(32).toString('base64');
    const box = load(key);
    expect(() => statSync(path.join(dir, MASTER_KEY_FILE))).toThrow(); // the env key writes no file
    writeFileSync(path.join(dir, MASTER_KEY_FILE), 'garbage');
    expect(load(key).open(box.seal('v', 'a'), 'a')).toBe('v');
    expect(() => load()).toThrow(/master key file .* is not a valid master key/);
  });
});
