/** Counters the server reports (status endpoint, leak tests, benchmarks). */
export class ServerStats {
  messagesIn = 0;
  messagesOut = 0;
  /** Requests refused as malformed (400/505/513 sent or dropped). */
  malformed = 0;
  /** Responses that matched no transaction, dropped. */
  strayResponses = 0;
  /** New INVITEs refused for overload (503), whatever the cause. */
  overloaded = 0;
  /** The same by cause: event_loop_lag, cpu, pending_invites. */
  readonly overloadRefusals = new Map<string, number>();
  /** New requests refused by the per-source rate limit. */
  rateLimited = 0;
  /** Requests from scanner user agents refused (dropped or 403). */
  scannersRefused = 0;
  /** Requests answered 503 because no app routed the method. */
  unrouted = 0;
  retransmissionsAbsorbed = 0;
  /** Connections refused before carrying SIP: failed TLS or WebSocket handshakes, bad certificates. */
  refusedConnections = 0;
  /** Requests the UAS core refused by itself (RFC 3261 §8.2: 405, 501, 415, 406, 416, 420, 482, 400), by status. */
  readonly refusals = new Map<number, number>();

  countOverload(cause: string): void {
    this.overloaded++;
    this.overloadRefusals.set(cause, (this.overloadRefusals.get(cause) ?? 0) + 1);
  }

  countRefusal(status: number): void {
    this.refusals.set(status, (this.refusals.get(status) ?? 0) + 1);
  }
}

export interface ServerCounts {
  readonly serverTransactions: number;
  readonly clientTransactions: number;
  readonly pendingAppRequests: number;
  readonly dialogs: number;
  readonly appConnections: number;
  readonly sipConnections: number;
  /** Contacts reachable over the connection they registered on (spec §2.9). */
  readonly registeredFlows: number;
  readonly timers: number;
  readonly pendingInvites: number;
  /** Initial INVITEs waiting for the app after a 1xx with our tag (a BYE may end them, RFC 3261 §15). */
  readonly earlyInvites: number;
}

export interface ServerStatus extends ServerCounts {
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly malformed: number;
  readonly strayResponses: number;
  readonly overloaded: number;
  readonly unrouted: number;
  readonly retransmissionsAbsorbed: number;
  readonly refusedConnections: number;
  /** This thread's V8 heap: live objects, and what V8 holds for them. */
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  /** Off-heap memory this thread's objects own (message Buffers). */
  readonly externalBytes: number;
  readonly rssBytes: number;
  /** Core refusals (RFC 3261 §8.2) by status code. */
  readonly refusals: Readonly<Record<string, number>>;
  readonly overload: {
    readonly overloaded: boolean;
    readonly cause: string | null;
    readonly serverLagMs: number;
    readonly appLagMs: number;
    readonly cpuPercent: number;
    /** New INVITEs waiting for their first response (beyond 100 Trying). */
    readonly waitingInvites: number;
    readonly transitions: number;
    /** New INVITEs refused with 503, by cause. */
    readonly refusals: Readonly<Record<string, number>>;
  };
  readonly rateLimited: number;
  readonly scannersRefused: number;
}
