import { describe, expect, it } from 'vitest';
import { createJsonLogger } from './logger.js';

describe('createJsonLogger', () => {
  it('writes one JSON object per line with time, level, msg, bindings and fields, above the level', () => {
    const lines: string[] = [];
    const log = createJsonLogger({ write: (line) => lines.push(line), level: 'info', bindings: { service: 's' }, now: () => new Date(0) })
      .child({ machine: 'm' });
    log.debug('hidden');
    log.warn('careful', { err: Object.assign(new Error('boom'), { code: 'EX' }), n: 1n });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'warn',
      msg: 'careful',
      service: 's',
      machine: 'm',
      err: { name: 'Error', message: 'boom', code: 'EX' },
      n: '1',
    });
  });
});
