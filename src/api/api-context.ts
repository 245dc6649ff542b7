/**
 * The types route modules share with the server that registers them: the
 * Fastify instance with the TypeBox type provider, and the parts of the API
 * a route may use.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SwitchboardConfig } from '../config/load.js';
import type { QueueStats } from '../engine/queues/call-queues.js';
import type { AgentSource } from './agents/agent-source.js';
import type { AuditLog } from './audit/audit-log.js';
import type { Guard } from './auth/guard.js';
import type { KeyStore } from './auth/key-store.js';
import type { LiveEvents } from './events/live-events.js';
import type { RouteSpec } from './route-table.js';
import type { LiveCalls } from './views/live-calls.js';

export type ApiApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

declare module 'fastify' {
  interface FastifyContextConfig {
    spec?: RouteSpec;
  }
}

/** What route modules use. */
export interface ApiContext {
  readonly config: SwitchboardConfig;
  readonly live: LiveCalls;
  readonly agents: AgentSource;
  /** The waiting queues' figures now. */
  readonly queues: () => QueueStats[];
  readonly audit: AuditLog;
  readonly events: LiveEvents;
  readonly guard: Guard;
  readonly keys: KeyStore;
  /** The embedded SIP server's WebSocket listeners (what browsers connect to). */
  readonly sipWebSockets: readonly SipWebSocketListener[];
  /** The embedded SIP server's transports (udp, tcp, tls, ws, wss); undefined with an external drachtio server (not known). */
  readonly sipTransports: readonly string[] | undefined;
  readonly now: () => number;
}

export interface SipWebSocketListener {
  readonly transport: 'ws' | 'wss';
  /** The address written into Via and Contact (a wildcard means: the host the browser used). */
  readonly host: string;
  readonly port: number;
}
