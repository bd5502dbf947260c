import { describe, expect, it } from 'vitest';
import { chooseRollback, type DeploymentOutcome } from './rollback-choice.js';

let nextId = 1;
const ok = (release: string, rollbackFrom: string | null = null): DeploymentOutcome => ({ id: nextId++, release, rollbackFrom, state: 'success', succeededTargets: 2 });
const failedEverywhere = (release: string, rollbackFrom: string | null = null): DeploymentOutcome => ({ id: nextId++, release, rollbackFrom, state: 'failed', succeededTargets: 0 });
const partly = (release: string, rollbackFrom: string | null = null): DeploymentOutcome => ({ id: nextId++, release, rollbackFrom, state: 'failed', succeededTargets: 1 });

describe('choosing what a rollback deploys', () => {
  it('skips a deployment that failed on every target: it changed nothing, so the current release is the one before', () => {
    expect(chooseRollback([ok('1.0.0'), ok('1.0.1'), failedEverywhere('1.0.2')])).toEqual({ current: '1.0.1', target: '1.0.0' });
  });

  it('treats a partly failed deployment as current and goes back to the release fully deployed before it', () => {
    expect(chooseRollback([ok('1.0.0'), ok('1.0.1'), partly('1.0.2')])).toEqual({ current: '1.0.2', target: '1.0.1' });
  });

  it('goes further back on a second rollback, never forward to the release rolled away from', () => {
    const history = [ok('1.0.0'), ok('1.0.1'), partly('1.0.2'), ok('1.0.1', '1.0.2')];
    expect(chooseRollback(history)).toEqual({ current: '1.0.1', target: '1.0.0' });
    // the same after a fully successful release that was rolled back
    expect(chooseRollback([ok('2.0.0'), ok('2.0.1'), ok('2.0.2'), ok('2.0.1', '2.0.2')])).toEqual({ current: '2.0.1', target: '2.0.0' });
  });

  it('may go forward again to a release deployed anew after it was rolled away from', () => {
    const history = [ok('1.0.0'), ok('1.0.1'), ok('1.0.0', '1.0.1'), ok('1.0.1'), ok('1.0.2')];
    expect(chooseRollback(history)).toEqual({ current: '1.0.2', target: '1.0.1' });
  });

  it('ignores a rollback that failed everywhere: it rolled nothing away', () => {
    const history = [ok('1.0.0'), ok('1.0.1'), failedEverywhere('1.0.0', '1.0.1'), ok('1.0.2')];
    expect(chooseRollback(history)).toEqual({ current: '1.0.2', target: '1.0.1' });
  });

  it('finds nothing without a deployment that changed a machine, or without an earlier different release', () => {
    expect(chooseRollback([])).toEqual({ current: null, target: null });
    expect(chooseRollback([failedEverywhere('1.0.0')])).toEqual({ current: null, target: null });
    expect(chooseRollback([ok('1.0.0'), ok('1.0.0')])).toEqual({ current: '1.0.0', target: null });
    expect(chooseRollback([partly('1.0.0'), partly('1.0.1')])).toEqual({ current: '1.0.1', target: null });
  });
});
