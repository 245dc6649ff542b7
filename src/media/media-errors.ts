/**
 * The media plane's typed errors. Each carries one code from src/errors.ts;
 * callers branch on the code or the class, never on the message.
 */
import { ErrorCodes, SwitchboardError } from '../errors.js';

/** rtpengine answered `result: error` (or `load limit`); `reason` is its `error-reason`. */
export class RtpengineError extends SwitchboardError {
  constructor(
    readonly command: string,
    readonly reason: string,
    readonly instance: string,
  ) {
    super(ErrorCodes.RTPENGINE_ERROR, `rtpengine ${instance} refused "${command}": ${reason}`);
  }
}

/** rtpengine answered that it does not know the call: it restarted since the call was set up there. */
export function isUnknownCallError(e: unknown): e is RtpengineError {
  return e instanceof RtpengineError && /unknown call-id/i.test(e.reason);
}

/** No reply within the request's time budget, retransmissions included. */
export class RtpengineTimeoutError extends SwitchboardError {
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
    readonly attempts: number,
    readonly instance: string,
  ) {
    super(ErrorCodes.RTPENGINE_TIMEOUT, `rtpengine ${instance} did not answer "${command}" within ${timeoutMs} ms (${attempts} attempts)`);
  }
}

/** The client was closed: pending requests are rejected with this, and new ones refused. */
export class RtpengineClosedError extends SwitchboardError {
  constructor(
    readonly command: string,
    readonly instance: string,
  ) {
    super(ErrorCodes.RTPENGINE_CLOSED, `ng client for rtpengine ${instance} is closed ("${command}" not sent or not answered)`);
  }
}

/** A reply that is not a well-formed ng message, or lacks what the command must return. */
export class RtpengineProtocolError extends SwitchboardError {
  constructor(message: string) {
    super(ErrorCodes.RTPENGINE_PROTOCOL, message);
  }
}

/** No rtpengine instance is able to take a call. */
export class RtpengineUnavailableError extends SwitchboardError {
  constructor(message: string) {
    super(ErrorCodes.RTPENGINE_UNAVAILABLE, message);
  }
}

/** An operation was stopped (a party hung up, the call was released). */
export class MediaCancelledError extends SwitchboardError {
  constructor(
    message: string,
    /** How long the operation ran before it was stopped. */
    readonly elapsedMs: number,
  ) {
    super(ErrorCodes.MEDIA_CANCELLED, message);
  }
}

/**
 * A configured prompt was asked for by a path at which start-up found none: a fault of ours (the
 * reference and the configuration disagree), never of the call's SDP.
 */
export class PromptMissingError extends SwitchboardError {
  constructor(readonly path: string) {
    super(ErrorCodes.PROMPT_MISSING, `no prompt is configured at ${path}`);
  }
}

/** An operation that does not fit the state of the call (unknown party, released call...). */
export class MediaStateError extends SwitchboardError {
  constructor(message: string) {
    super(ErrorCodes.MEDIA_STATE, message);
  }
}

/**
 * A party's offer we cannot serve: no active audio stream, or no codec in
 * which prompts can be played (sdp.ts PLAYABLE_CODECS). `warning` is the RFC
 * 3261 §20.43 warn-code that says which: 304 (media type not available) or 305
 * (incompatible media format).
 */
export class MediaOfferRefusedError extends SwitchboardError {
  constructor(
    readonly warning: 304 | 305,
    readonly reason: string,
  ) {
    super(ErrorCodes.MEDIA_STATE, reason);
  }
}

/** An uploaded prompt that cannot be used: unreadable, not audio, no audio stream, empty. */
export class PromptInputError extends SwitchboardError {
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCodes.PROMPT_INPUT, message, options);
  }
}

/** Rendering failed for a reason other than the input (a missing voice, a renderer crash). */
export class PromptRenderError extends SwitchboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.PROMPT_RENDER, message, options);
  }
}
