/**
 * The last resort for an error no code caught: a throw inside a drachtio-srf
 * callback, a timer or an event listener, or a promise rejected with nobody
 * waiting on it. Node's default ends the process, and with it every live
 * call on the node, for what is nearly always one call's fault. The engine's
 * process logs it with its stack (and counts it in
 * `switchboard_internal_errors_total`) and goes on serving.
 *
 * A fault that keeps coming is not one call's: past `maxErrors` within
 * `windowMs` the process gives up with exit code 70 (EX_SOFTWARE), for its
 * supervisor to restart it (the live-call journal writes the records of the
 * calls it had; the recordings spool keeps their recordings).
 */
import type { Logger } from './logger.js';
import { metrics } from './metrics.js';

export interface LastResortOptions {
  readonly logger: Logger;
  /** More errors than this within `windowMs` end the process (default 20). */
  readonly maxErrors?: number;
  /** Default 60 s. */
  readonly windowMs?: number;
  /** Ends the process (default `process.exit`); tests pass their own. */
  readonly giveUp?: (code: number) => void;
}

export const GIVE_UP_EXIT_CODE = 70;

/** Installs the handlers on this process; returns a function that removes them. */
export function keepServingThroughStrayErrors(o: LastResortOptions): () => void {
  const maxErrors = o.maxErrors ?? 20;
  const windowMs = o.windowMs ?? 60_000;
  const giveUp = o.giveUp ?? ((code: number) => process.exit(code));
  const recent: number[] = [];
  const handler =
    (kind: 'exception' | 'rejection') =>
    (err: unknown): void => {
      metrics.internalErrors.inc({ kind });
      const now = Date.now();
      recent.push(now);
      while (recent.length > 0 && recent[0]! <= now - windowMs) recent.shift();
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      if (recent.length > maxErrors) {
        o.logger.fatal({ err: detail, kind, errors: recent.length, windowSeconds: windowMs / 1000 }, 'internal errors keep coming: stopping the process for its supervisor to restart it');
        giveUp(GIVE_UP_EXIT_CODE);
        return;
      }
      o.logger.error({ err: detail, kind }, 'internal error no code caught (a bug: please report it with this line); the engine goes on serving');
    };
  const onException = handler('exception');
  const onRejection = handler('rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
