import pino, { type Logger } from 'pino';
import type { HubConfig } from './config.js';

/** JSON lines on stderr (stdout carries only the ready line). Never log keys or secrets. */
export function createLogger(level: HubConfig['logLevel']): Logger {
  return pino(
    {
      level,
      base: { service: 'cuttle-hub' },
      redact: { paths: ['req.headers["x-api-key"]', 'req.headers.authorization', '*.key', '*.token'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
