import { pino, type Logger } from 'pino';
import { LOG_LEVELS } from '../config/index.js';

export type { Logger } from 'pino';

/**
 * Structured logs. Request bodies and completions are never passed to a logger; credentials are redacted
 * in case a header object slips into a log call.
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  const lvl = (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info';
  return pino({
    name: service,
    level: lvl,
    base: { service, pid: process.pid },
    redact: {
      paths: ['authorization', 'headers.authorization', 'headers["x-api-key"]', 'token', 'secret', 'tunnel_token'],
      censor: '[redacted]',
    },
  });
}

export const silentLogger = (): Logger => pino({ level: 'silent' });

export { LogThrottle } from './throttle.js';
export { loggableParam } from './param.js';
