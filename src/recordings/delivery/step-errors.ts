/**
 * How a conversion or delivery step says "not now" or "never": the queue glue
 * maps these to BullMQ's retry with our back-off and to UnrecoverableError.
 */

/** A failed attempt that should be retried after `delayMs`. */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
    /** The CRM said its API limit was reached: slow down every upload, not just this one. */
    readonly rateLimited: boolean,
    readonly attempt: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

/** Delivery can never succeed (the CRM refuses, the file is corrupt or gone); `reason` says why. */
export class GiveUp extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
    this.name = 'GiveUp';
  }
}
