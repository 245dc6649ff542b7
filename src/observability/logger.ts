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
