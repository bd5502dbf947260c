import { describe, expect, it } from 'vitest';
import { TASK_LOG_LIMITS, TargetLogBudget } from './task-log-limits.js';
import { DeploymentFixture } from './testing/deployment-fixture.js';

const lines = (count: number, text = 'x') => Array.from({ length: count }, () => ({ text }));

describe('a target log budget', () => {
  it('keeps lines up to the line limit, then drops and counts the rest, saying so once', () => {
    const budget = new TargetLogBudget({ linesPerTarget: 3, bytesPerTarget: 1000 });
    expect(budget.admit(lines(2))).toEqual({ kept: lines(2), firstDrop: false });
    expect(budget.takeSummary()).toBeNull();
    expect(budget.admit(lines(4))).toEqual({ kept: lines(1), firstDrop: true });
    expect(budget.admit(lines(5))).toEqual({ kept: [], firstDrop: false });
    expect(budget.takeSummary()).toBe('output truncated: 8 more lines dropped (limit 3 lines or 1,000 bytes of output per target)');
    expect(budget.takeSummary()).toBeNull();
    budget.admit(lines(1));
    expect(budget.takeSummary()).toBe('output truncated: 1 more line dropped (limit 3 lines or 1,000 bytes of output per target)');
  });

  it('drops everything after the first line that would pass the byte limit (UTF-8 bytes), even shorter ones', () => {
    const budget = new TargetLogBudget({ linesPerTarget: 100, bytesPerTarget: 10 });
    const { kept, firstDrop } = budget.admit([{ text: 'ééé' }, { text: 'abcdef' }, { text: 'a' }]);
    expect(kept).toEqual([{ text: 'ééé' }]);
    expect(firstDrop).toBe(true);
  });

  it('has named default limits of 100,000 lines and 50 MiB per target', () => {
    expect(TASK_LOG_LIMITS).toEqual({ linesPerTarget: 100_000, bytesPerTarget: 50 * 1024 * 1024 });
    expect(new TargetLogBudget().truncationNotice()).toBe('output truncated: further output of this target is dropped (limit 100,000 lines or 50 MiB of output per target)');
  });
});

describe('a deployment whose scripts print more than the limit', () => {
  it('stores the output up to the limit, a notice, the count of dropped lines at the job end, and keeps the outcome', async () => {
    const f = new DeploymentFixture({ logLimits: { linesPerTarget: 3, bytesPerTarget: 1_000_000 } });
    try {
      f.environment('Test');
      f.machine('web-1', ['web'], ['Test']);
      f.machine('web-2', ['web'], ['Test']);
      f.pkg('Acme.Web', '1.0.0');
      f.project('Shop', [{ name: 'Deploy web', type: 'deploy-package', package: 'Acme.Web', roles: ['web'] }]);
      f.release('Shop', '1.0.0');
      const deployment = f.deployments.create({ project: 'Shop', release: '1.0.0', environment: 'Test' }, 'tester');
      await f.jobs.waitForRuns(2);
      const print = (index: number, from: number, count: number) =>
        f.jobs.runs[index]!.handlers.onLog(Array.from({ length: count }, (_, i) => ({ at: '2026-01-01T00:00:00.000Z', stream: 'stdout' as const, text: `line ${from + i}` })));
      print(0, 0, 2);
      print(0, 2, 4);
      print(0, 6, 100);
      print(1, 0, 1); // web-2 has its own budget
      f.jobs.runs[0]!.finish();
      f.jobs.runs[1]!.finish();
      await f.runner.whenDone(deployment.taskId);
      const log = f.tasks.readLog(deployment.taskId, 0, 10_000);
      const web1 = log.filter((e) => e.machine === 'web-1').map((e) => e.text);
      expect(web1.filter((t) => t.startsWith('line '))).toEqual(['line 0', 'line 1', 'line 2']);
      expect(web1).toContain('output truncated: further output of this target is dropped (limit 3 lines or 1,000,000 bytes of output per target)');
      expect(web1).toContain('output truncated: 103 more lines dropped (limit 3 lines or 1,000,000 bytes of output per target)');
      expect(log.filter((e) => e.machine === 'web-2').map((e) => e.text)).toContain('line 0');
      expect(f.tasks.get(deployment.taskId)).toMatchObject({ state: 'success' });
      expect(f.tasks.get(deployment.taskId).targets.map((t) => t.state)).toEqual(['success', 'success']);
    } finally {
      await f.close();
    }
  });
});
