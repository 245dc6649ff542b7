/**
 * When to try a part again: exponential back-off with jitter (the delay
 * doubles with each failure of the same part; a random share of it is taken
 * off so that recordings failing together do not retry together), never
 * sooner than the CRM's Retry-After (the configured longest delay caps only
 * our own back-off), and never past the recording's retention deadline — the attempt
 * scheduled at the deadline finds the recording expired and reports it.
 */

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** 0..1: share of each delay that is randomised. */
  readonly jitter: number;
}

export function retryDelay(
  policy: BackoffPolicy,
  failures: number,
  context: { readonly now: number; readonly expiresAt: number; readonly retryAfterMs?: number; readonly random?: () => number },
): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 40);
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  const random = context.random ?? Math.random;
  const jittered = Math.round(base * (1 - policy.jitter * random()));
  const wanted = Math.max(jittered, context.retryAfterMs ?? 0);
  return Math.max(0, Math.min(wanted, context.expiresAt - context.now));
}
