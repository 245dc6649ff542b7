import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

/** The structured logger every module receives (never a global). */
export type Logger = PinoLogger;

export interface LoggerOptions {
  readonly level: string;
  readonly name?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, ...(options.name !== undefined ? { name: options.name } : {}) };
  return options.destination !== undefined ? pino(base, options.destination) : pino(base);
}

/** A logger that drops everything (unit tests, library use without logging). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * The logger of a component or of a part of one. pino writes a key bound twice twice (`"component":"engine"`,
 * then `"component":"agents"`), which a parser reads as the last one or refuses (Elasticsearch): a part of a
 * component gets `part` instead, and a logger already bound to `name` is used as it is.
 */
export function componentLogger(logger: Logger, name: string): Logger {
  const bound = logger.bindings().component as unknown;
  if (bound === name) return logger;
  return bound === undefined ? logger.child({ component: name }) : logger.child({ part: name });
}
