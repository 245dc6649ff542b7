/** Counters the server reports (status endpoint, leak tests, benchmarks). */
export class ServerStats {
  messagesIn = 0;
  messagesOut = 0;
  /** Requests refused as malformed (400/505/513 sent or dropped). */
  malformed = 0;
  /** Responses that matched no transaction, dropped. */
  strayResponses = 0;
  /** Requests refused for overload (503). */
  overloaded = 0;
  /** Requests answered 503 because no app routed the method. */
  unrouted = 0;
  retransmissionsAbsorbed = 0;
  /** Connections refused before carrying SIP: failed TLS or WebSocket handshakes, bad certificates. */
  refusedConnections = 0;
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
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
}
