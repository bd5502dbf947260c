import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeployPackageJob, JobPhase, TentacleMessage } from '@cuttle/shared';
import { deployJob } from '../../test-support/fake-hub-jobs.js';
import { TempDirs } from '../../test-support/temp-dir.js';
import { JobFailure } from '../job-failure.js';
import { JobLog } from '../job-log.js';
import type { JobRuntime } from '../job-runtime.js';
import { configureRelease } from './configure-release.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

interface Fixture {
  dir: string;
  rt: JobRuntime;
  phases: JobPhase[];
  /** the job log as `stream: text` lines */
  lines: () => string[];
}

async function fixture(files: Record<string, string | Buffer>): Promise<Fixture> {
  const dir = await temp.make('cuttle-configure-');
  for (const [name, data] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), data);
  }
  const sent: TentacleMessage[] = [];
  const phases: JobPhase[] = [];
  const log = new JobLog({ send: (m) => (sent.push(m), true), closed: false, bufferedAmount: () => 0, pause: () => () => {} }, 'j', 1 << 20);
  const rt: JobRuntime = {
    jobId: 'j',
    log,
    signal: new AbortController().signal,
    phase: (phase) => phases.push(phase),
    send: () => {},
    setReceiver: () => {},
  };
  const lines = (): string[] => {
    log.flush();
    return sent.flatMap((m) => (m.type === 'job-log' ? m.lines.map((l) => `${l.stream}: ${l.text}`) : []));
  };
  return { dir, rt, phases, lines };
}

function job(overrides: Partial<DeployPackageJob>): DeployPackageJob {
  return deployJob(Buffer.from('zip'), { environment: 'Production', environments: ['Test', 'Staging', 'Production'], ...overrides });
}

const variables = [
  { name: 'Db.Host', value: 'db-prod', sensitive: false },
  { name: 'Db.Password', value: 'hunter2-secret', sensitive: true },
  { name: 'Logging:LogLevel:Default', value: 'Warning', sensitive: false },
  { name: 'Port', value: '8443', sensitive: false },
];

const options = { maxFileBytes: 1024 * 1024 };
const read = (f: Fixture, name: string): Promise<string> => readFile(path.join(f.dir, name), 'utf8');

async function failureOf(promise: Promise<unknown>): Promise<JobFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof JobFailure) return error;
    throw error;
  }
  throw new Error('expected a JobFailure');
}

describe('configureRelease: substitution', () => {
  it('substitutes in matched files only, keeps modes, warns once per unknown name per file, skips binaries, and logs names but no values', async () => {
    const f = await fixture({
      'config/app.ini': 'host=#{Db.Host}\npassword=#{Db.Password}\nagain=#{Db.Host} #{Nope} #{Nope}\nliteral=##{Db.Host}\n',
      'bin/start.sh': 'echo #{Db.Host} #{Nope}\n',
      'readonly.txt': 'x=#{Db.Host}\n',
      'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x23, 0x7b]),
      'latin1.txt': Buffer.from([0x23, 0x7b, 0x41, 0x7d, 0xe9]),
      'untouched.ini': 'host=#{Db.Host}\n',
      'escaped.txt': 'only ##{Db.Host} here\n',
    });
    await chmod(path.join(f.dir, 'bin/start.sh'), 0o755);
    await chmod(path.join(f.dir, 'readonly.txt'), 0o444);
    await configureRelease(f.rt, job({ variables, substituteIn: ['config/*.ini', 'bin/**', '*.txt', '*.png'] }), f.dir, options);

    expect(await read(f, 'config/app.ini')).toBe('host=db-prod\npassword=hunter2-secret\nagain=db-prod #{Nope} #{Nope}\nliteral=#{Db.Host}\n');
    expect(await read(f, 'bin/start.sh')).toBe('echo db-prod #{Nope}\n');
    expect(await read(f, 'readonly.txt')).toBe('x=db-prod\n');
    expect(await read(f, 'untouched.ini')).toBe('host=#{Db.Host}\n');
    expect((await stat(path.join(f.dir, 'bin/start.sh'))).mode & 0o777).toBe(0o755);
    expect((await stat(path.join(f.dir, 'readonly.txt'))).mode & 0o777).toBe(0o444);
    expect(f.phases).toEqual(['configure']);
    expect(await read(f, 'escaped.txt')).toBe('only #{Db.Host} here\n');
    expect(f.lines()).toEqual([
      'warn: bin/start.sh: #{Nope} has no value; left as is',
      'info: bin/start.sh: substituted 1 value: Db.Host',
      'warn: config/app.ini: #{Nope} has no value; left as is',
      'info: config/app.ini: substituted 3 values: Db.Host (2×), Db.Password; 1 ##{...} escape written as #{...}',
      'info: escaped.txt: substituted nothing; 1 ##{...} escape written as #{...}',
      'warn: latin1.txt: skipped, not valid UTF-8 text; nothing substituted',
      'warn: logo.png: skipped, a binary file (it contains NUL bytes); nothing substituted',
      'info: readonly.txt: substituted 1 value: Db.Host',
    ]);
    expect(f.lines().join('\n')).not.toContain('hunter2');
  });

  it('does nothing and reports no phase when there is nothing to configure', async () => {
    const f = await fixture({ 'app.json': '{"a": "#{Db.Host}"}' });
    await configureRelease(f.rt, job({ variables }), f.dir, options);
    expect(f.phases).toEqual([]);
    expect(await read(f, 'app.json')).toBe('{"a": "#{Db.Host}"}');
  });
});

describe('configureRelease: environment transform files', () => {
  it('merges JSON and YAML, replaces other files, removes the transform files of every environment, after substitution', async () => {
    const f = await fixture({
      'appsettings.json': '{\n  "Logging": { "Level": "Warning", "Console": true },\n  "Hosts": ["a", "b"],\n  "Db": "local"\n}\n',
      'appsettings.Production.json': '{ "Logging": { "Level": "Error" }, "Hosts": ["p1"], "Db": "Server=#{Db.Host}" }',
      'appsettings.Staging.json': '{ "Db": "#{OnlyInStaging}" }',
      'appsettings.test.json': '{ "Db": "test" }',
      'config/app.yaml': '# app settings\nlogging:\n  level: warning\n  file: app.log # keep\nfeatures: [a, b]\n',
      'config/app.production.yaml': 'logging:\n  level: error\nfeatures: [z]\n',
      'config/app.Test.yaml': 'logging:\n  level: debug\n',
      'web.config': '<config env="dev"/>\n',
      'web.Production.config': '<config env="prod"/>\n',
      'lonely.Production.json': '{"kept": true}',
    });
    await configureRelease(f.rt, job({ variables, substituteIn: ['**/*.json'] }), f.dir, options);

    expect(JSON.parse(await read(f, 'appsettings.json'))).toEqual({ Logging: { Level: 'Error', Console: true }, Hosts: ['p1'], Db: 'Server=db-prod' });
    // edited in place: the inline object and array keep their layout
    expect(await read(f, 'appsettings.json')).toBe('{\n  "Logging": { "Level": "Error", "Console": true },\n  "Hosts": ["p1"],\n  "Db": "Server=db-prod"\n}\n');
    const yaml = await read(f, 'config/app.yaml');
    expect(yaml).toContain('# app settings');
    expect(yaml).toContain('file: app.log # keep');
    expect(yaml).toMatch(/level: error/);
    expect(yaml).toMatch(/features:\s*(\[ ?z ?\]|\n\s*- z)/);
    expect(await read(f, 'web.config')).toBe('<config env="prod"/>\n');
    for (const gone of ['appsettings.Production.json', 'appsettings.Staging.json', 'appsettings.test.json', 'config/app.production.yaml', 'config/app.Test.yaml', 'web.Production.config']) {
      expect(existsSync(path.join(f.dir, gone)), gone).toBe(false);
    }
    expect(existsSync(path.join(f.dir, 'lonely.Production.json'))).toBe(true);
    const lines = f.lines();
    expect(lines).toContain('info: appsettings.Production.json: substituted 1 value: Db.Host');
    expect(lines).toContain('info: appsettings.json: merged appsettings.Production.json into it');
    expect(lines).toContain('info: config/app.yaml: merged config/app.production.yaml into it');
    expect(lines).toContain('info: web.config: replaced by web.Production.config');
    expect(lines).toContain('info: removed appsettings.Staging.json');
    // a Staging-only name in a Staging file is no concern of a Production deployment
    expect(lines.join('\n')).not.toContain('OnlyInStaging');
  });

  it('fails configuration-failed naming the file, line and column when a transform file is not valid JSON', async () => {
    const f = await fixture({ 'appsettings.json': '{"a": 1}', 'appsettings.Production.json': '{\n  "a": 2,\n}\n' });
    const failure = await failureOf(configureRelease(f.rt, job({}), f.dir, options));
    expect(failure.code).toBe('configuration-failed');
    expect(failure.message).toBe('appsettings.Production.json is not valid JSON (line 3, column 1): expected a property name in double quotes');
  });

  it('fails configuration-failed when a YAML base file is not valid YAML', async () => {
    const f = await fixture({ 'config.yml': 'a: [1, 2\nb: 3\n', 'config.Production.yml': 'a: 1\n' });
    const failure = await failureOf(configureRelease(f.rt, job({}), f.dir, options));
    expect(failure.code).toBe('configuration-failed');
    expect(failure.message).toMatch(/^config\.yml is not valid YAML \(line \d+, column \d+\): /);
  });

  it('never quotes the YAML file in a failure: an alias without an anchor is named by line and column only', async () => {
    const f = await fixture({ 'config.yml': 'a: 1\n', 'config.Production.yml': 'a: 2\nb: *Pa55word-XY\n' });
    const failure = await failureOf(configureRelease(f.rt, job({}), f.dir, options));
    expect(failure).toMatchObject({ code: 'configuration-failed', message: 'config.Production.yml is not valid YAML (line 2, column 4): an alias names no anchor defined before it' });
    const g = await fixture({ 'config.yml': 'a: "Pa55word-XY\\q"\n', 'config.Production.yml': 'a: 1\n' });
    const syntax = await failureOf(configureRelease(g.rt, job({}), g.dir, options));
    expect(syntax.message).toMatch(/^config\.yml is not valid YAML \(line 1, column \d+\): /);
    expect(syntax.message).not.toContain('Pa55');
  });

  it('merges a YAML transform into a key that is an alias of a map, keeping the keys it does not set', async () => {
    const f = await fixture({ 'config.yml': 'defaults: &defaults\n  retries: 3\n  timeout: 30\ndb: *defaults\n', 'config.Production.yml': 'db:\n  timeout: 60\n' });
    await configureRelease(f.rt, job({}), f.dir, options);
    expect(parseDocument(await read(f, 'config.yml')).toJS()).toEqual({ defaults: { retries: 3, timeout: 30 }, db: { retries: 3, timeout: 60 } });
  });
});

describe('configureRelease: the list of files', () => {
  it('works on knownFiles when given (no walk of the folder), on what is on disk otherwise', async () => {
    const files = { 'config.json': '{ "Level": "Info" }', 'config.Production.json': '{ "Level": "Error" }' };
    const known = await fixture(files);
    // told that only config.json is there: the transform on disk is neither merged nor removed
    await configureRelease(known.rt, job({}), known.dir, { ...options, knownFiles: ['config.json'] });
    expect(JSON.parse(await read(known, 'config.json'))).toEqual({ Level: 'Info' });
    expect(existsSync(path.join(known.dir, 'config.Production.json'))).toBe(true);

    const walked = await fixture(files);
    await configureRelease(walked.rt, job({}), walked.dir, options);
    expect(JSON.parse(await read(walked, 'config.json'))).toEqual({ Level: 'Error' });
    expect(existsSync(path.join(walked.dir, 'config.Production.json'))).toBe(false);
  });
});

describe('configureRelease: structured replacement', () => {
  it('sets key paths in matched JSON and YAML files after the transforms, keeping types', async () => {
    const f = await fixture({
      'appsettings.json': '{\n  "Logging": { "LogLevel": { "Default": "Information" } },\n  "Port": 80,\n  "Other": 1\n}\n',
      'appsettings.Production.json': '{ "Logging": { "LogLevel": { "Default": "Error" } } }',
      'deploy/values.yaml': 'Port: 80 # http\nLogging:\n  LogLevel:\n    Default: Information\n',
      'skip.json': '{"Port": 1}',
    });
    await configureRelease(f.rt, job({ variables, structuredVariables: ['appsettings.json', 'deploy/*.yaml'] }), f.dir, options);
    expect(JSON.parse(await read(f, 'appsettings.json'))).toEqual({ Logging: { LogLevel: { Default: 'Warning' } }, Port: 8443, Other: 1 });
    expect(await read(f, 'deploy/values.yaml')).toBe('Port: 8443 # http\nLogging:\n  LogLevel:\n    Default: Warning\n');
    expect(await read(f, 'skip.json')).toBe('{"Port": 1}');
    expect(f.lines()).toContain('info: appsettings.json: set Port, Logging:LogLevel:Default');
  });

  it('fails configuration-failed for a path into a scalar', async () => {
    const f = await fixture({ 'appsettings.json': '{"Logging": {"LogLevel": "Information"}}' });
    const failure = await failureOf(configureRelease(f.rt, job({ variables, structuredVariables: ['*.json'] }), f.dir, options));
    expect(failure).toMatchObject({ code: 'configuration-failed', message: 'appsettings.json: cannot set Logging:LogLevel:Default: Logging:LogLevel is a string, not an object or array' });
  });
});
