import { describe, expect, it } from 'vitest';
import type { Variable } from '@cuttle/shared';
import { checkVariables, type ScopeCatalog } from './variable-validation.js';

const catalog: ScopeCatalog = {
  environments: ['Test', 'Production'],
  machines: [
    { name: 'web-1', roles: ['web'], environments: ['Production'] },
    { name: 'both-1', roles: ['web', 'db'], environments: ['Test'] },
  ],
  roles: ['web', 'db', 'worker'],
};
const codeOf = (variables: Variable[], c = catalog) => {
  try {
    checkVariables(variables, c);
    return 'ok';
  } catch (error) {
    return { code: (error as { code: string }).code, details: (error as { details: unknown }).details };
  }
};

describe('checking variables before they are saved', () => {
  it('refuses the built-in names and anything under Cuttle.', () => {
    expect(codeOf([{ name: 'Cuttle.Environment.Name', value: 'x' }])).toMatchObject({ code: 'reserved-variable', details: { index: 0, name: 'Cuttle.Environment.Name' } });
    expect(codeOf([{ name: 'ok', value: '1' }, { name: 'cuttle.Mine', value: 'x' }])).toMatchObject({ code: 'reserved-variable', details: { index: 1 } });
    expect(codeOf([{ name: 'CuttleLike', value: 'x' }])).toBe('ok');
  });

  it('refuses a scope naming an unknown environment, role or machine', () => {
    expect(codeOf([{ name: 'A', value: '1', scope: { environments: ['Staging'] } }])).toMatchObject({ code: 'unknown-scope', details: { index: 0, name: 'A', environments: ['Staging'] } });
    expect(codeOf([{ name: 'A', value: '1', scope: { roles: ['cache'] } }])).toMatchObject({ code: 'unknown-scope', details: { roles: ['cache'] } });
    expect(codeOf([{ name: 'A', value: '1', scope: { machines: ['web-9'] } }])).toMatchObject({ code: 'unknown-scope', details: { machines: ['web-9'] } });
  });

  it("returns scopes in the hub's spelling of environments and machines, without repeats", () => {
    const [checked] = checkVariables([{ name: 'A', value: '1', scope: { environments: ['production', 'PRODUCTION'], machines: ['WEB-1'], roles: ['Worker'] } }], catalog);
    expect(checked?.scope).toEqual({ environments: ['Production'], machines: ['web-1'], roles: ['Worker'] });
    expect(checkVariables([{ name: 'A', value: '1', scope: {} }], catalog)[0]?.scope).toBeNull();
  });

  it('refuses exact duplicates and overlapping scopes of the same standing', () => {
    expect(codeOf([{ name: 'A', value: '1' }, { name: 'A', value: '2' }])).toMatchObject({ code: 'ambiguous-variable', details: { name: 'A', indexes: [0, 1] } });
    expect(codeOf([{ name: 'A', value: '1', scope: { environments: ['Test'] } }, { name: 'A', value: '2', scope: { environments: ['test', 'Production'] } }])).toMatchObject({
      code: 'ambiguous-variable',
    });
  });

  it('refuses a tie that a registered machine would hit, and allows one that none can', () => {
    // both-1 has roles web and db
    expect(codeOf([{ name: 'A', value: '1', scope: { roles: ['web'] } }, { name: 'A', value: '2', scope: { roles: ['db'] } }])).toMatchObject({ code: 'ambiguous-variable' });
    // no machine has web and worker
    expect(codeOf([{ name: 'A', value: '1', scope: { roles: ['web'] } }, { name: 'A', value: '2', scope: { roles: ['worker'] } }])).toBe('ok');
    // different standing is never a tie; the same scope under different names neither
    expect(codeOf([{ name: 'A', value: '1' }, { name: 'A', value: '2', scope: { environments: ['Test'] } }, { name: 'B', value: '3' }])).toBe('ok');
    expect(codeOf([{ name: 'A', value: '1', scope: { environments: ['Test'] } }, { name: 'A', value: '2', scope: { environments: ['Production'] } }])).toBe('ok');
  });
});
