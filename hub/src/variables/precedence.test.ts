import { describe, expect, it } from 'vitest';
import { CuttleError, type VariableScope } from '@cuttle/shared';
import { pickWinners, scopeMatches } from './precedence.js';
import { resolveVariables } from './resolution.js';
import type { SourcedVariable } from './variable-model.js';

const v = (value: string, scope: VariableScope | null = null, source = 0, name = 'Conn'): SourcedVariable => ({
  name,
  value,
  sensitive: false,
  scope,
  source,
  set: source === 0 ? null : `set${source}`,
});
const web1 = { environment: 'Production', machine: 'web-1', roles: ['web', 'api'] };
const winner = (values: SourcedVariable[], target = web1) => pickWinners(values, target).get('Conn')?.value;

describe('scope precedence', () => {
  it('matches only when every named dimension contains the target (case-insensitively)', () => {
    expect(scopeMatches({ environments: ['production'] }, web1)).toBe(true);
    expect(scopeMatches({ environments: ['Test'] }, web1)).toBe(false);
    expect(scopeMatches({ environments: ['Production'], roles: ['db'] }, web1)).toBe(false);
    expect(scopeMatches({ roles: ['API'] }, web1)).toBe(true);
    expect(scopeMatches({ machines: ['web-1'] }, { ...web1, machine: null })).toBe(false);
  });

  it('prefers machine over role over environment over unscoped', () => {
    const values = [v('unscoped'), v('env', { environments: ['Production'] }), v('role', { roles: ['web'] }), v('machine', { machines: ['web-1'] })];
    expect(winner(values)).toBe('machine');
    expect(winner(values.slice(0, 3))).toBe('role');
    expect(winner(values.slice(0, 2))).toBe('env');
    expect(winner(values.slice(0, 1))).toBe('unscoped');
    // order in the list does not matter
    expect(winner([...values].reverse())).toBe('machine');
    // a value whose scope does not match never wins
    expect(winner([v('unscoped'), v('other machine', { machines: ['web-2'] })])).toBe('unscoped');
  });

  it('at equal rank prefers the scope naming more dimensions', () => {
    expect(winner([v('role', { roles: ['web'] }), v('role+env', { roles: ['web'], environments: ['Production'] })])).toBe('role+env');
    expect(winner([v('machine+role', { machines: ['web-1'], roles: ['api'] }), v('machine', { machines: ['web-1'] })])).toBe('machine+role');
  });

  it('at a full tie prefers the project, then the earlier variable set', () => {
    const scope = { environments: ['Production'] };
    expect(winner([v('set1', scope, 1), v('project', scope, 0)])).toBe('project');
    expect(winner([v('set2', scope, 2), v('set1', scope, 1)])).toBe('set1');
    // but a more specific set value beats a less specific project one
    expect(winner([v('project', scope, 0), v('set', { roles: ['web'] }, 1)])).toBe('set');
  });

  it('refuses a tie within one source, naming the variable and both scopes', () => {
    let error: unknown;
    try {
      pickWinners([v('a', { roles: ['web'] }), v('b', { roles: ['api'] })], web1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CuttleError);
    expect(error).toMatchObject({ code: 'ambiguous-variable', details: { name: 'Conn', scopes: [{ roles: ['web'] }, { roles: ['api'] }] } });
    expect((error as Error).message).toContain('web-1');
    // the same values are fine for a machine that has only one of the roles
    expect(winner([v('a', { roles: ['web'] }), v('b', { roles: ['api'] })], { ...web1, roles: ['api'] })).toBe('b');
  });
});

describe('resolving for a target', () => {
  it('puts built-ins first, expands references and marks values that take in a secret as sensitive', () => {
    const resolved = resolveVariables(
      [
        v('Server=db;Password=#{Password};Env=#{Cuttle.Environment.Name}', null, 0, 'Conn'),
        { ...v('s3cret!', null, 0, 'Password'), sensitive: true },
        v('keep ##{Conn} and #{Missing}', null, 1, 'Note'),
      ],
      web1,
      { 'Cuttle.Environment.Name': 'Production', 'Cuttle.Project.Name': 'Shop' },
    );
    expect(resolved.map((r) => r.name)).toEqual(['Cuttle.Project.Name', 'Cuttle.Environment.Name', 'Conn', 'Password', 'Note']);
    const byName = new Map(resolved.map((r) => [r.name, r]));
    expect(byName.get('Conn')).toMatchObject({ value: 'Server=db;Password=s3cret!;Env=Production', sensitive: true, source: { kind: 'project', matchedBy: 'unscoped' } });
    expect(byName.get('Note')).toMatchObject({ value: 'keep #{Conn} and #{Missing}', sensitive: false, source: { kind: 'variable-set', set: 'set1' } });
    expect(byName.get('Cuttle.Project.Name')?.source).toEqual({ kind: 'built-in', set: null, scope: null, matchedBy: 'unscoped' });
  });

  it('fails with variable-cycle when the winning values refer to each other', () => {
    expect(() => resolveVariables([v('#{B}', null, 0, 'A'), v('x#{A}', null, 0, 'B')], web1, {})).toThrow(expect.objectContaining({ code: 'variable-cycle' }));
  });
});
