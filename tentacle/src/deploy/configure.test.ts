import { existsSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_LIMITS, SENSITIVE_MASK, type JobVariable } from '@cuttle/shared';
import { deployHarnesses, type DeployHarness } from '../test-support/deploy-harness.js';
import { deployJob, jobMessages, jobPhases, jobResult, jobText, scriptJob, servePackage, startJob } from '../test-support/fake-hub-jobs.js';
import { buildZip, type ZipFileEntry } from '../test-support/zip-builder.js';

const { temp, start } = deployHarnesses();

async function setup(): Promise<{ h: DeployHarness; out: string }> {
  const out = await temp.make('cuttle-configure-out-');
  const h = await start({ env: { ...process.env, TEST_OUT: out, CUTTLE_VAR_Stale: 'inherited' } });
  return { h, out };
}

async function deploy(h: DeployHarness, jobId: string, files: ZipFileEntry[], overrides: Parameters<typeof deployJob>[1] = {}) {
  const zip = buildZip(files);
  startJob(h.socket, jobId, deployJob(zip, { environments: ['Test', 'Production'], ...overrides }));
  void servePackage(h.socket, jobId, zip).catch(() => {});
  return jobResult(h.socket, jobId);
}

const SECRET = 'S3cr3t-Pa55word';
const variables: JobVariable[] = [
  { name: 'Db.Connection', value: 'Server=db-test;Database=shop', sensitive: false },
  { name: 'Db.Password', value: SECRET, sensitive: true },
  { name: 'Logging:LogLevel:Default', value: 'Debug', sensitive: false },
  { name: 'Cuttle.Environment.Name', value: 'Test', sensitive: false },
];

const appDir = (h: DeployHarness, ...rest: string[]): string => path.join(h.home, 'apps', 'shop', 'Test', ...rest);

describe('configuration in a deployment', () => {
  it('configures the files as PreDeploy.sh left them: a transform it writes is merged, a file it removes is not looked for', async () => {
    const { h } = await setup();
    const result = await deploy(
      h,
      'cfg-pre',
      [
        { name: 'appsettings.json', data: '{ "Feature": { "Beta": false }, "Host": "#{Db.Connection}" }\n' },
        { name: 'old.Test.json', data: '{ "x": 1 }' },
        { name: 'old.json', data: '{ "x": 0 }' },
        { name: 'PreDeploy.sh', data: 'printf \'{ "Feature": { "Beta": true } }\' > appsettings.Test.json\nrm old.Test.json\n' },
      ],
      { variables, substituteIn: ['*.json'] },
    );
    expect(result).toMatchObject({ outcome: 'success', error: null });
    expect(JSON.parse(await readFile(appDir(h, 'current', 'appsettings.json'), 'utf8'))).toEqual({ Feature: { Beta: true }, Host: 'Server=db-test;Database=shop' });
    expect(existsSync(appDir(h, 'current', 'appsettings.Test.json'))).toBe(false);
    expect(JSON.parse(await readFile(appDir(h, 'current', 'old.json'), 'utf8'))).toEqual({ x: 0 });
    expect(jobText(h.socket, 'cfg-pre')).toContain('info: appsettings.json: merged appsettings.Test.json into it');
  });

  it('without PreDeploy.sh, configures the files extraction wrote, in folders too', async () => {
    const { h } = await setup();
    const result = await deploy(
      h,
      'cfg-known',
      [
        { name: 'conf/app.json', data: '{ "Host": "#{Db.Connection}", "Level": "Info" }\n' },
        { name: 'conf/app.Test.json', data: '{ "Level": "Debug" }' },
        { name: 'conf/app.Production.json', data: '{ "Level": "Error" }' },
      ],
      { variables, substituteIn: ['conf/*.json'] },
    );
    expect(result).toMatchObject({ outcome: 'success', error: null });
    expect(JSON.parse(await readFile(appDir(h, 'current', 'conf', 'app.json'), 'utf8'))).toEqual({ Host: 'Server=db-test;Database=shop', Level: 'Debug' });
    expect(existsSync(appDir(h, 'current', 'conf', 'app.Test.json'))).toBe(false);
    expect(existsSync(appDir(h, 'current', 'conf', 'app.Production.json'))).toBe(false);
  });

  it('configures the release between PreDeploy and Deploy, exports CUTTLE_VAR_ variables and masks the secret in script output', async () => {
    const { h, out } = await setup();
    const result = await deploy(
      h,
      'cfg-1',
      [
        { name: 'appsettings.json', data: '{\n  "ConnectionStrings": { "Shop": "#{Db.Connection};Password=#{Db.Password}" },\n  "Logging": { "LogLevel": { "Default": "Warning" } }\n}\n' },
        { name: 'appsettings.Test.json', data: '{ "Feature": { "Beta": true } }' },
        { name: 'appsettings.Production.json', data: '{ "Feature": { "Beta": false } }' },
        { name: 'PreDeploy.sh', data: 'cp appsettings.json "$TEST_OUT/before"\n' },
        { name: 'Deploy.sh', data: 'env | grep "^CUTTLE_VAR_" | sort > "$TEST_OUT/env"\necho "password is $CUTTLE_VAR_Db_Password"\necho "in the file: $(grep -o "Password=[^\\"]*" appsettings.json)" >&2\n' },
      ],
      { variables, substituteIn: ['*.json'], structuredVariables: ['appsettings.json'] },
    );
    expect(result).toMatchObject({ outcome: 'success', error: null });
    expect(jobPhases(h.socket, 'cfg-1')).toEqual(['transfer', 'extract', 'PreDeploy', 'configure', 'Deploy', 'switch']);

    // PreDeploy.sh saw the file as packaged; what is current is configured
    expect(await readFile(path.join(out, 'before'), 'utf8')).toContain('#{Db.Connection}');
    expect(JSON.parse(await readFile(appDir(h, 'current', 'appsettings.json'), 'utf8'))).toEqual({
      ConnectionStrings: { Shop: `Server=db-test;Database=shop;Password=${SECRET}` },
      Logging: { LogLevel: { Default: 'Debug' } },
      Feature: { Beta: true },
    });
    expect(existsSync(appDir(h, 'current', 'appsettings.Test.json'))).toBe(false);
    expect(existsSync(appDir(h, 'current', 'appsettings.Production.json'))).toBe(false);

    expect((await readFile(path.join(out, 'env'), 'utf8')).trim().split('\n')).toEqual([
      'CUTTLE_VAR_Cuttle_Environment_Name=Test',
      'CUTTLE_VAR_Db_Connection=Server=db-test;Database=shop',
      `CUTTLE_VAR_Db_Password=${SECRET}`,
      'CUTTLE_VAR_Logging_LogLevel_Default=Debug',
    ]);

    const text = jobText(h.socket, 'cfg-1');
    expect(text).toContain(`stdout: password is ${SENSITIVE_MASK}`);
    expect(text).toContain(`stderr: in the file: Password=${SENSITIVE_MASK}`);
    expect(text).toContain('info: appsettings.json: substituted 2 values: Db.Connection, Db.Password');
    expect(text).toContain('info: appsettings.json: merged appsettings.Test.json into it');
    expect(text).toContain('info: removed appsettings.Production.json');
    expect(text).toContain('info: appsettings.json: set Logging:LogLevel:Default');
    expect(JSON.stringify(jobMessages(h.socket, 'job-log', 'cfg-1'))).not.toContain(SECRET);
  });

  it('fails configuration-failed for an invalid transform file: DeployFailed.sh runs, Deploy.sh does not, the previous release stays current', async () => {
    const { h, out } = await setup();
    const base = { name: 'appsettings.json', data: '{"a": 1}\n' };
    expect(await deploy(h, 'good', [base, { name: 'app.txt', data: 'one' }])).toMatchObject({ outcome: 'success' });

    const result = await deploy(
      h,
      'bad',
      [
        base,
        { name: 'appsettings.Test.json', data: '{\n  "a": 2\n  "b": 3\n}\n' },
        { name: 'Deploy.sh', data: 'touch "$TEST_OUT/deployed"\n' },
        { name: 'DeployFailed.sh', data: 'touch "$TEST_OUT/failed"\n' },
      ],
      { release: '2.0.0' },
    );
    expect(result).toMatchObject({
      outcome: 'failed',
      releaseDir: null,
      error: { code: 'configuration-failed', message: "appsettings.Test.json is not valid JSON (line 3, column 3): expected ',' or '}'" },
    });
    expect(jobPhases(h.socket, 'bad')).toEqual(['transfer', 'extract', 'configure', 'DeployFailed']);
    expect(existsSync(path.join(out, 'failed'))).toBe(true);
    expect(existsSync(path.join(out, 'deployed'))).toBe(false);
    expect(await readlink(appDir(h, 'current'))).toBe('releases/1.0.0');
    expect(existsSync(appDir(h, 'releases', '2.0.0'))).toBe(false);
  });

  it('masks secrets in the job-result message too', async () => {
    const { h } = await setup();
    startJob(h.socket, 'quote', scriptJob('exit 2\n', { step: 'rotate-hunter2', variables: [{ name: 'Token', value: 'hunter2', sensitive: true }] }));
    const result = await jobResult(h.socket, 'quote');
    expect(result.error).toEqual({ code: 'script-failed', message: `the script of step "rotate-${SENSITIVE_MASK}" exited with 2` });
  });
});

describe('variables in run-script jobs', () => {
  it('exports the variables to the script, leaves the script text alone and masks secrets in its output', async () => {
    const { h } = await setup();
    const script = 'echo "conn=$CUTTLE_VAR_Db_Connection"\necho "pw=$CUTTLE_VAR_Db_Password"\necho "stale=${CUTTLE_VAR_Stale:-none}"\necho \'#{Db.Connection}\'\nexit 1\n';
    startJob(h.socket, 'script-1', scriptJob(script, { variables, step: 'smoke' }));
    const result = await jobResult(h.socket, 'script-1');
    expect(result.error?.code).toBe('script-failed');
    const text = jobText(h.socket, 'script-1');
    expect(text).toContain('stdout: conn=Server=db-test;Database=shop');
    expect(text).toContain(`stdout: pw=${SENSITIVE_MASK}`);
    expect(text).toContain('stdout: stale=none');
    expect(text).toContain('stdout: #{Db.Connection}');
    expect(text).not.toContain(SECRET);
  });

  it('masks a secret that a long output line is cut across, leaving no part of it', async () => {
    const { h } = await setup();
    // the secret starts a few characters before the cut at maxLogLineChars and ends after it
    const before = PROTOCOL_LIMITS.maxLogLineChars - 6;
    const script = `printf '%${before}s' '' | tr ' ' x\necho "$CUTTLE_VAR_Db_Password and the rest"\nexit 1\n`;
    startJob(h.socket, 'long-line', scriptJob(script, { variables, step: 'long' }));
    await jobResult(h.socket, 'long-line');
    const line = jobText(h.socket, 'long-line')
      .split('\n')
      .find((l) => l.startsWith('stdout: xxx'));
    expect(line).toBeDefined();
    expect(line!.length).toBe('stdout: '.length + PROTOCOL_LIMITS.maxLogLineChars);
    expect(line).toMatch(/x\*+…$/);
    expect(line).not.toContain(SECRET.slice(0, 3));
  });
});
