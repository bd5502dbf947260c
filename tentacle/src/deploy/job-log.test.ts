import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobLogSchema, PROTOCOL_LIMITS, TentacleMessageSchema, type TentacleMessage } from '@cuttle/shared';
import type { HubChannel } from '../agent/job-handler.js';
import { JobLog } from './job-log.js';

function channel(): { channel: HubChannel; sent: TentacleMessage[] } {
  const sent: TentacleMessage[] = [];
  return {
    sent,
    channel: { send: (m) => (sent.push(m), true), closed: false, bufferedAmount: () => 0, pause: () => () => {} },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('JobLog', () => {
  it('sends at most 200 lines per message, in order, each message valid', () => {
    const { channel: c, sent } = channel();
    const log = new JobLog(c, 'j', 1 << 20);
    for (let i = 0; i < 450; i++) log.line('stdout', `line ${i}`);
    log.close();
    expect(sent.map((m) => (m.type === 'job-log' ? m.lines.length : 0))).toEqual([200, 200, 50]);
    expect(sent.flatMap((m) => (m.type === 'job-log' ? m.lines.map((l) => l.text) : []))).toEqual(Array.from({ length: 450 }, (_, i) => `line ${i}`));
    for (const m of sent) expect(TentacleMessageSchema.safeParse(m).success).toBe(true);
  });

  it('keeps each message within maxLogBatchChars and the control message size, even for lines that escape badly', () => {
    const { channel: c, sent } = channel();
    const log = new JobLog(c, 'j', 1 << 20);
    for (let i = 0; i < 100; i++) log.line('stdout', '\u0001'.repeat(PROTOCOL_LIMITS.maxLogLineChars));
    log.close();
    expect(sent.length).toBeGreaterThan(1);
    for (const m of sent) {
      const parsed = JobLogSchema.parse(m);
      expect(parsed.lines.reduce((sum, l) => sum + l.text.length, 0)).toBeLessThanOrEqual(PROTOCOL_LIMITS.maxLogBatchChars);
      expect(Buffer.byteLength(JSON.stringify(m))).toBeLessThanOrEqual(PROTOCOL_LIMITS.maxControlMessageBytes);
    }
  });

  it('flushes buffered lines after logFlushIntervalMs, and before any other message of the job', () => {
    vi.useFakeTimers();
    const { channel: c, sent } = channel();
    const log = new JobLog(c, 'j', 1 << 20);
    log.info('one');
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(PROTOCOL_LIMITS.logFlushIntervalMs);
    expect(sent).toHaveLength(1);
    log.info('two');
    log.send({ type: 'job-status', jobId: 'j', phase: 'Deploy' });
    expect(sent.map((m) => m.type)).toEqual(['job-log', 'job-log', 'job-status']);
  });

  it('drops script output past the line limit after one line that says so, and keeps its own lines', () => {
    const { channel: c, sent } = channel();
    const log = new JobLog(c, 'j', 1 << 20, undefined, undefined, { lines: 5, bytes: 1 << 20 });
    for (let i = 0; i < 4; i++) log.line('stdout', `out ${i}`);
    log.line('stderr', 'err 4');
    expect(log.droppingOutput).toBe(false);
    log.line('stdout', 'out 5');
    expect(log.droppingOutput).toBe(true);
    log.line('stderr', 'err 6');
    log.info('Deploy.sh exited with 0');
    log.close();
    const lines = sent.flatMap((m) => (m.type === 'job-log' ? m.lines.map((l) => `${l.stream}: ${l.text}`) : []));
    expect(lines).toEqual([
      'stdout: out 0',
      'stdout: out 1',
      'stdout: out 2',
      'stdout: out 3',
      'stderr: err 4',
      'warn: output truncated: further output of this job is dropped (limit 5 lines or 1 MiB)',
      'info: Deploy.sh exited with 0',
    ]);
  });

  it('drops script output past the byte limit (UTF-8 bytes, a line break counted per line)', () => {
    const { channel: c, sent } = channel();
    const log = new JobLog(c, 'j', 1 << 20, undefined, undefined, { lines: 1000, bytes: 20 });
    log.line('stdout', 'ééééé'); // 10 bytes + 1
    log.line('stdout', '12345678'); // 9: 20 in all
    log.line('stdout', 'x'); // 22: over
    log.close();
    const texts = sent.flatMap((m) => (m.type === 'job-log' ? m.lines.map((l) => l.text) : []));
    expect(texts).toEqual(['ééééé', '12345678', 'output truncated: further output of this job is dropped (limit 1000 lines or 20 bytes)']);
  });
});
