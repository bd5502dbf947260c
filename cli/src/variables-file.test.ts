import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from './cli-error.js';
import { parseDataText } from './data-file.js';
import { tempDir } from './test-support/test-io.js';
import { readVariablesFile } from './variables-file.js';

const SECRET = 'Sup3r-Secret-Pa55';

async function refusal(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof CliError)) throw new Error(`expected a CliError, got ${String(error)}`);
  return error;
}

describe('readVariablesFile: a broken file never echoes its content', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it.each([
    ['an unclosed flow mapping', `variables:\n  - { name: Db.Password, value: ${SECRET}, sensitive: true\n`, 'BAD_INDENT'],
    ['a bad indentation', `variables:\n  - name: Db.Password\n    value: ${SECRET}\n   sensitive: true\n`, 'MISSING_CHAR'],
    ['an unknown tag (the yaml package would store "")', `variables:\n  - name: Db.Password\n    value: !${SECRET}\n`, 'TAG_RESOLVE_FAILED'],
    ['a bad escape', `variables:\n  - name: Db.Password\n    value: "${SECRET}\\q"\n`, 'BAD_DQ_ESCAPE'],
    ['a value that starts with @', `variables:\n  - name: Db.Password\n    value: @${SECRET}\n`, 'BAD_SCALAR_START'],
  ])('%s: line, column and kind of problem, no source line and no quote of the file', async (_what, text, reason) => {
    await writeFile(path.join(dir, 'vars.yaml'), text);
    const error = await refusal(readVariablesFile(dir, 'vars.yaml'));
    expect(error.code).toBe('invalid-variables-file');
    expect(error.details).toMatchObject({ file: 'vars.yaml', reason });
    expect(error.details).not.toHaveProperty('source');
    expect(error.message).toMatch(/^vars\.yaml is not valid YAML or JSON: line \d+, column \d+/);
    expect(`${error.message} ${JSON.stringify(error.details)}`).not.toContain('Sup3r');
  });

  it('an alias without an anchor (an unquoted secret starting with *) is named without quoting it', async () => {
    await writeFile(path.join(dir, 'vars.yaml'), `variables:\n  - { name: Db.Password, value: *${SECRET} }\n`);
    const error = await refusal(readVariablesFile(dir, 'vars.yaml'));
    expect(error.code).toBe('invalid-variables-file');
    expect(error.message).toBe('vars.yaml cannot be read as data: an alias (a value starting with *) has no anchor before it; quote a value that starts with *');
    expect(JSON.stringify(error.details)).not.toContain('Sup3r');
  });

  it('a project file (no secrets) still shows the offending line and the yaml message', () => {
    const text = 'name: Acme\nsteps:\n  - name: web\n   type: run-script\n';
    let error: unknown;
    try {
      parseDataText(text, 'acme.yaml', 'invalid-project-file');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).details).toMatchObject({ file: 'acme.yaml', source: '   type: run-script' });
  });
});
