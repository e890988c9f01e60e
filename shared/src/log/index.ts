import { pino, type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { ConfigError, LOG_LEVELS } from '../config/index.js';

export type { Logger } from 'pino';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** LOG_LEVEL and TOKIOS_LOG_FORMAT, checked: a typo stops the service at startup instead of logging at info. */
export function logSettings(env: NodeJS.ProcessEnv = process.env, isTty = process.stdout.isTTY === true): { level: string; format: LogFormat } {
  const level = env.LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(`invalid LOG_LEVEL "${level.slice(0, 40)}": use one of ${LOG_LEVELS.join(', ')}`);
  const format = env.TOKIOS_LOG_FORMAT || (isTty ? 'pretty' : 'json');
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new ConfigError(`invalid TOKIOS_LOG_FORMAT "${format.slice(0, 40)}": use json or pretty`);
  return { level, format: format as LogFormat };
}

/**
 * Structured logs: JSON lines, or human-readable lines (pino-pretty, written synchronously on this thread) when
 * stdout is a terminal. Request bodies and completions are never passed to a logger; credentials are redacted in
 * case a header object slips into a log call. Throws ConfigError for a bad LOG_LEVEL or TOKIOS_LOG_FORMAT.
 */
export function createLogger(service: string, env: NodeJS.ProcessEnv = process.env): Logger {
  const { level, format } = logSettings(env);
  const options = {
    name: service,
    level,
    base: { service, pid: process.pid },
    redact: {
      paths: ['authorization', 'headers.authorization', 'headers["x-api-key"]', 'token', 'secret', 'tunnel_token'],
      censor: '[redacted]',
    },
  };
  if (format === 'json') return pino(options);
  const pretty: DestinationStream = pinoPretty({ colorize: true, sync: true, ignore: 'pid,hostname,service', messageKey: 'msg', translateTime: 'SYS:HH:MM:ss.l' });
  return pino(options, pretty);
}

export const silentLogger = (): Logger => pino({ level: 'silent' });

export { LogThrottle } from './throttle.js';
export { loggableParam } from './param.js';
