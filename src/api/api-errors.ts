/**
 * The API's errors: every answer that is not a success is JSON
 * `{statusCode, code, reason}` with a stable code from src/errors.ts. What a
 * caller got wrong is a 4xx with the reason; only our own faults are 500.
 * This is the one place where errors become HTTP statuses.
 */
import type { FastifyError } from 'fastify';
import { ErrorCodes, SwitchboardError, type ErrorCode } from '../errors.js';
import { AgentStateError } from '../engine/agents/agent-registry.js';
import { CallControlError } from '../engine/call-control.js';
import { MonitorDeviceError } from '../engine/tasks/monitor-task.js';
import { RtpengineClosedError, RtpengineError, RtpengineProtocolError, RtpengineTimeoutError, RtpengineUnavailableError } from '../media/media-errors.js';
import { PLAIN_TEXT_PATTERN } from './schemas.js';

export class ApiError extends SwitchboardError {
  constructor(
    readonly statusCode: number,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

export const unauthorized = (reason: string): ApiError => new ApiError(401, ErrorCodes.API_UNAUTHORIZED, reason);
export const forbidden = (reason: string): ApiError => new ApiError(403, ErrorCodes.API_FORBIDDEN, reason);
export const badRequest = (reason: string): ApiError => new ApiError(400, ErrorCodes.API_BAD_REQUEST, reason);
export const notFound = (reason: string): ApiError => new ApiError(404, ErrorCodes.NOT_FOUND, reason);
export const conflict = (reason: string): ApiError => new ApiError(409, ErrorCodes.CONFLICT, reason);

export interface ErrorBody {
  readonly statusCode: number;
  readonly code: string;
  readonly reason: string;
}

function isFastifyError(e: unknown): e is FastifyError {
  const code = e instanceof Error ? (e as Partial<FastifyError>).code : undefined;
  return typeof code === 'string' && code.startsWith('FST_');
}

/** What to answer for `e`; `internal` marks our own faults (logged with their stack). */
export function errorBodyOf(e: unknown): ErrorBody & { readonly internal: boolean } {
  if (e instanceof ApiError) return { statusCode: e.statusCode, code: e.code, reason: e.message, internal: false };
  if (e instanceof AgentStateError) return { statusCode: e.kind === 'not-found' ? 404 : 409, code: e.code, reason: e.message, internal: false };
  if (e instanceof CallControlError) return { statusCode: e.kind === 'not-found' ? 404 : 409, code: e.code, reason: e.message, internal: false };
  if (e instanceof MonitorDeviceError) return { statusCode: e.callEnded || e.stoppedFirst ? 409 : e.notSent ? 400 : 502, code: e.code, reason: e.message, internal: false };
  // The media relay refused, did not answer or is gone: what was asked of it (a recording's pause) was not done.
  if (e instanceof RtpengineError || e instanceof RtpengineTimeoutError || e instanceof RtpengineClosedError || e instanceof RtpengineProtocolError || e instanceof RtpengineUnavailableError) {
    return { statusCode: 502, code: e.code, reason: `the media relay did not confirm: ${e.message}`, internal: false };
  }
  if (e instanceof Error && Array.isArray((e as FastifyError).validation)) {
    const first = (e as FastifyError).validation![0];
    const where = `${(e as FastifyError).validationContext ?? 'body'}${first?.instancePath ?? ''}`;
    const unknown = first?.keyword === 'additionalProperties' ? first.params.additionalProperty : undefined;
    const reason =
      first?.params.pattern === PLAIN_TEXT_PATTERN
        ? `${where} must not contain control characters (line breaks, tabs, escapes, bidirectional or invisible format characters)`
        : typeof unknown === 'string'
          ? `${where} has an unknown field "${unknown.slice(0, 64)}"`
          : e.message;
    return { statusCode: 400, code: ErrorCodes.API_BAD_REQUEST, reason, internal: false };
  }
  if (isFastifyError(e) && e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    const reason = e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported Content-Type: bodies are application/json' : e.message;
    return { statusCode: e.statusCode, code: ErrorCodes.API_BAD_REQUEST, reason, internal: false };
  }
  // A body that is not JSON (JSON.parse's SyntaxError, surfaced by Fastify with statusCode 400).
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  if (e instanceof Error && typeof status === 'number' && status >= 400 && status < 500) {
    return { statusCode: status, code: ErrorCodes.API_BAD_REQUEST, reason: e.message, internal: false };
  }
  return { statusCode: 500, code: ErrorCodes.API_INTERNAL, reason: 'internal error (logged)', internal: true };
}
