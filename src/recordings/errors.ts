/**
 * The recording pipeline's errors. Every one carries a code from the one
 * catalogue (src/errors.ts); the queue decides retry or give-up by class, never
 * by message text.
 */
import { ErrorCodes, SwitchboardError } from '../errors.js';

/** A capture file or an audio stream that cannot be read as what it claims to be. */
export class RecordingFormatError extends SwitchboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.RECORDING_FORMAT, message, options);
  }
}

/** An encrypted recording that fails authentication: tampered, truncated, reordered or the wrong key. */
export class RecordingIntegrityError extends SwitchboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.RECORDING_INTEGRITY, message, options);
  }
}

/** The recording reached its retention limit before it could be delivered. */
export class RecordingExpiredError extends SwitchboardError {
  constructor(message: string) {
    super(ErrorCodes.RECORDING_EXPIRED, message);
  }
}

/** The recording's files are not where its manifest says (deleted, or never written). */
export class RecordingMissingError extends SwitchboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.RECORDING_MISSING, message, options);
  }
}

/** How a CRM answered a part upload that did not succeed. */
export type CrmFailureKind =
  /** Try again later (5xx, timeout, dropped connection, missing or negative confirmation, 401/403). */
  | 'retryable'
  /** 429: the CRM's API limit; `retryAfterMs` when it said how long to wait. */
  | 'rate-limited'
  /** 413: the part is too large for this CRM; split further. */
  | 'too-large'
  /** Any other refusal (400, 404, 422, ...): sending the same request again cannot succeed. */
  | 'rejected';

export class CrmError extends SwitchboardError {
  constructor(
    readonly kind: CrmFailureKind,
    message: string,
    readonly details: { readonly status?: number; readonly retryAfterMs?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(kind === 'rejected' ? ErrorCodes.CRM_REJECTED : ErrorCodes.CRM_RETRYABLE, message, options);
  }
}
