import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseHubArgs } from '../config.js';
import { openDatabase } from '../db/open-database.js';
import { LOCK_FILE, startHub } from '../hub.js';
import { loadMasterKey, MASTER_KEY_FILE } from './master-key.js';
import { VariableRepository } from './variable-repository.js';

const log = pino({ level: 'silent' });

describe('starting the hub with a master key problem', () => {
  let dir: string;
  const config = (env: NodeJS.ProcessEnv = {}) => {
    const parsed = parseHubArgs(['--data', dir, '--host', '127.0.0.1', '--port', '0', '--tentacle-port', '0'], env);
    if (parsed.kind !== 'config') throw new Error(`bad test config: ${JSON.stringify(parsed)}`);
    return parsed.config;
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cuttle-hub-key-'));
    // a database that was created with a key file
    const { db } = openDatabase(path.join(dir, 'cuttle.db'));
    loadMasterKey({ dataDir: dir, envKey: null }, new VariableRepository(db), new Date().toISOString(), log);
    db.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a wrong CUTTLE_MASTER_KEY and a missing key file, and leaves the data folder unlocked', async () => {
    await expect(startHub(config({ CUTTLE_MASTER_KEY: randomBytes(32).toString('base64') }), { log })).rejects.toThrow(
      /does not match the one this database was created with/,
    );
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    rmSync(path.join(dir, MASTER_KEY_FILE));
    await expect(startHub(config(), { log })).rejects.toThrow(/master key is missing/);
    expect(existsSync(path.join(dir, MASTER_KEY_FILE))).toBe(false);
  });

  it('reports a malformed CUTTLE_MASTER_KEY as a configuration problem without echoing it', () => {
    const parsed = parseHubArgs(['--data', dir], { CUTTLE_MASTER_KEY: 'c2hvcnQ=' });
    expect(parsed.kind).toBe('invalid');
    const problems = parsed.kind === 'invalid' ? parsed.problems.join('\n') : '';
    expect(problems).toMatch(/CUTTLE_MASTER_KEY is not a valid master key/);
    expect(problems).not.toContain('c2hvcnQ=');
  });
});
