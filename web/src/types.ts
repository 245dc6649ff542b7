/** The parts of the API's answers the console uses (docs/openapi.json has them all). */

export interface Me {
  readonly user: string;
  readonly role: string;
  readonly permissions: readonly string[];
  readonly scope: 'all' | 'teams';
  readonly teams: readonly string[];
}

export interface Monitor {
  readonly id: string;
  readonly user: string;
  readonly device: string;
  readonly state: 'ringing' | 'listening';
  readonly startedAt: string;
  readonly listeningSince: string | null;
}

export interface CallSummary {
  readonly id: string;
  readonly state: string;
  readonly caller: { readonly number: string | null; readonly name: string | null; readonly withheld: boolean };
  readonly dialed: string;
  readonly queue: string | null;
  readonly queueName: string | null;
  readonly team: string | null;
  readonly queuePath: readonly string[];
  readonly agent: string | null;
  readonly arrivedAt: string;
  readonly bridgedAt: string | null;
  readonly stuck: boolean;
  readonly recording: { readonly id: string; readonly state: string } | null;
  readonly monitors: readonly Monitor[];
}

export interface CallDetails extends CallSummary {
  readonly language: string;
  readonly source: { readonly address: string; readonly port: number; readonly transport: string };
  readonly metrics: { readonly waitMs: number; readonly whisperMs: number; readonly queueMs: number; readonly talkMs: number; readonly holdMs: number };
  readonly attempts: readonly { readonly agent: string; readonly queue: string; readonly outcome: string; readonly status: number | null }[];
  readonly transfers: readonly { readonly from: string; readonly to: string; readonly kind: string }[];
  readonly participants: readonly { readonly role: string; readonly id: string; readonly state: string }[];
  readonly reservedData?: Readonly<Record<string, string | number | boolean>>;
  readonly callerAttestation?: string | null;
  readonly crmTicket?: { readonly id: string; readonly link: string | null } | null;
  readonly trunk?: { readonly id: string | null; readonly trusted?: boolean } | null;
}

export interface Agent {
  /** The agent's id, or a static target's SIP URI. */
  readonly id: string;
  readonly kind: 'agent' | 'target';
  /** The device: a static SIP URI or the newest registered contact (null when none is registered). */
  readonly uri: string | null;
  readonly name?: string | null;
  /** Why the agent is not ready. */
  readonly reason?: string | null;
  readonly teams: readonly string[];
  readonly queues: readonly string[];
  readonly status: string;
  readonly call: string | null;
}

export interface MonitorTicket {
  readonly call: string;
  readonly uri: string;
  readonly webSocket: string;
  readonly expiresAt: string;
}

export interface Snapshot {
  readonly calls: readonly CallSummary[];
  readonly agents: readonly Agent[];
}

export type LiveEvent =
  | { readonly type: 'call.added' | 'call.updated'; readonly call: CallSummary }
  | { readonly type: 'call.ended'; readonly call: { readonly id: string; readonly endReason: string | null; readonly endedBy: string | null; readonly endedByUser: string | null } }
  | { readonly type: 'call.removed'; readonly call: { readonly id: string } }
  | { readonly type: 'agent.updated'; readonly agent: Agent };
