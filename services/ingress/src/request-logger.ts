import type { FastifyBaseLogger } from 'fastify';
import { levels, type Logger } from 'pino';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type LogArgs = Parameters<FastifyBaseLogger['info']>;

/**
 * Fastify's per-request logger (`request.log`), its pino child made on the first line written: Fastify makes one for
 * every request (with options, pino's slow path: formatters rebuilt), and at LOG_LEVEL warn a request that goes well
 * writes none. A line that is written is the child's line, request id binding included, as before.
 */
export class LazyRequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
    /** The parent's level, kept by the factory (ParentLevel); read from the parent when absent. */
    private readonly parentLevel?: ParentLevel,
  ) {}

  /** The pino child, made now if it was not. */
  private get logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parentLevel?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  /** Whether a line at `level` would be written at this logger's level (pino's numbering; `silent` writes none). */
  private writes(level: Level): boolean {
    const current = this.level;
    if (current === 'silent') return false;
    const threshold = levels.values[current];
    return threshold === undefined || levels.values[level]! >= threshold; // a level pino does not number: pino decides
  }

  fatal(...args: LogArgs): void {
    if (this.writes('fatal')) this.logger.fatal(...args);
  }

  error(...args: LogArgs): void {
    if (this.writes('error')) this.logger.error(...args);
  }

  warn(...args: LogArgs): void {
    if (this.writes('warn')) this.logger.warn(...args);
  }

  info(...args: LogArgs): void {
    if (this.writes('info')) this.logger.info(...args);
  }

  debug(...args: LogArgs): void {
    if (this.writes('debug')) this.logger.debug(...args);
  }

  trace(...args: LogArgs): void {
    if (this.writes('trace')) this.logger.trace(...args);
  }

  silent(...args: LogArgs): void {
    this.logger.silent(...args);
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

/**
 * A logger's level, read once and kept by its `level-change` event. pino's `level` is a getter behind two more
 * (getLevelSym, levelVal) on a prototype chain, a generic property load: every request's `request done` check read
 * it. pino children share their parent's event listeners, so a child's own level change is told apart by the logger
 * the event names.
 */
export class ParentLevel {
  level: string;

  constructor(log: Logger) {
    this.level = log.level;
    log.on('level-change', (level, _value, _previous, _previousValue, changed) => {
      if (changed === log) this.level = level;
    });
  }
}

/**
 * Fastify's childLoggerFactory: a LazyRequestLogger per request, a child of `log` whatever logger Fastify passes (an
 * app built without `loggerInstance`, app.ts says why, has one that writes nothing; request.log still writes here).
 */
export function requestLoggerFactory(log: Logger): (fastifyLogger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions) => FastifyBaseLogger {
  const level = new ParentLevel(log);
  return (_fastifyLogger, bindings, options) => new LazyRequestLogger(log, bindings, options, level);
}
