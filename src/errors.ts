/**
 * The one error catalogue. Code branches on `code` (or the class), never on
 * message text. Each module may add its own subclass, but every code is listed
 * here so that operators and tests have one stable vocabulary.
 */

export const ErrorCodes = {
  // configuration
  CONFIG_INVALID: 'SB_CONFIG_INVALID',
  CONFIG_UNREADABLE: 'SB_CONFIG_UNREADABLE',
  /** node.stateDir cannot be created or written. */
  STATE_DIR: 'SB_STATE_DIR',
  // command line
  USAGE: 'SB_USAGE',
  // SIP / signaling
  SIP_PARSE: 'SB_SIP_PARSE',
  SIP_TOO_LARGE: 'SB_SIP_TOO_LARGE',
  SIP_TRANSPORT: 'SB_SIP_TRANSPORT',
  SIP_FAILURE: 'SB_SIP_FAILURE',
  CONTROL_PROTOCOL: 'SB_CONTROL_PROTOCOL',
  // media
  RTPENGINE_TIMEOUT: 'SB_RTPENGINE_TIMEOUT',
  RTPENGINE_ERROR: 'SB_RTPENGINE_ERROR',
  RTPENGINE_CLOSED: 'SB_RTPENGINE_CLOSED',
  RTPENGINE_UNAVAILABLE: 'SB_RTPENGINE_UNAVAILABLE',
  PROMPT_RENDER: 'SB_PROMPT_RENDER',
  PROMPT_INPUT: 'SB_PROMPT_INPUT',
  /** A call asked for a configured prompt that start-up did not find (a reference to a path the configuration has not). */
  PROMPT_MISSING: 'SB_PROMPT_MISSING',
  FFMPEG: 'SB_FFMPEG',
  MEDIA_CANCELLED: 'SB_MEDIA_CANCELLED',
  RTPENGINE_PROTOCOL: 'SB_RTPENGINE_PROTOCOL',
  MEDIA_STATE: 'SB_MEDIA_STATE',
  // recordings
  RECORDING_FORMAT: 'SB_RECORDING_FORMAT',
  RECORDING_INTEGRITY: 'SB_RECORDING_INTEGRITY',
  RECORDING_EXPIRED: 'SB_RECORDING_EXPIRED',
  RECORDING_MISSING: 'SB_RECORDING_MISSING',
  RECORDING_STATE: 'SB_RECORDING_STATE',
  RECORDING_KEY: 'SB_RECORDING_KEY',
  REDIS_UNAVAILABLE: 'SB_REDIS_UNAVAILABLE',
  CRM_REJECTED: 'SB_CRM_REJECTED',
  CRM_RETRYABLE: 'SB_CRM_RETRYABLE',
  // processes we supervise (rtpengine, redis-server)
  CHILD_PROCESS: 'SB_CHILD_PROCESS',
  // policy
  POLICY_UNKNOWN_QUEUE: 'SB_POLICY_UNKNOWN_QUEUE',
  POLICY_BAD_REQUEST: 'SB_POLICY_BAD_REQUEST',
  POLICY_CHANNEL_NOT_SERVED: 'SB_POLICY_CHANNEL_NOT_SERVED',
  // live calls (the engine's call control, the API)
  NOT_FOUND: 'SB_NOT_FOUND',
  CONFLICT: 'SB_CONFLICT',
  MONITOR_DEVICE_FAILED: 'SB_MONITOR_DEVICE_FAILED',
  // the supervisors' HTTP API
  API_BAD_REQUEST: 'SB_API_BAD_REQUEST',
  API_UNAUTHORIZED: 'SB_API_UNAUTHORIZED',
  API_FORBIDDEN: 'SB_API_FORBIDDEN',
  API_KEYS_INVALID: 'SB_API_KEYS_INVALID',
  API_INTERNAL: 'SB_API_INTERNAL',
  /** The web console's files are missing (not built). */
  API_CONSOLE_UNAVAILABLE: 'SB_API_CONSOLE_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class SwitchboardError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One problem found in a configuration file. */
export interface ConfigProblem {
  /** Dotted path inside the document, e.g. `queues[2].agents[0]`; empty for the whole file. */
  readonly path: string;
  /** What was expected or what is wrong, in words an operator understands. */
  readonly message: string;
  /** `file:line:column` when the location is known. */
  readonly location?: string;
}

export class ConfigError extends SwitchboardError {
  readonly problems: readonly ConfigProblem[];
  readonly file: string | undefined;

  constructor(problems: readonly ConfigProblem[], file?: string) {
    super(ErrorCodes.CONFIG_INVALID, formatProblems(problems, file));
    this.problems = problems;
    this.file = file;
  }
}

export function formatProblems(problems: readonly ConfigProblem[], file?: string): string {
  const head = `${file ?? 'configuration'}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  const lines = problems.map((p) => {
    const where = p.location ?? (p.path === '' ? '(top level)' : p.path);
    const path = p.location !== undefined && p.path !== '' ? ` ${p.path}:` : '';
    return `  - ${where}:${path} ${p.message}`;
  });
  return [head, ...lines].join('\n');
}

export class UsageError extends SwitchboardError {
  constructor(message: string) {
    super(ErrorCodes.USAGE, message);
  }
}

export function isSwitchboardError(e: unknown): e is SwitchboardError {
  return e instanceof SwitchboardError;
}

/** Turns anything thrown into a short printable reason. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
