/**
 * Every route of the API and what it takes to use it: the one table the
 * server enforces (a route missing from it cannot be registered) and the
 * permission matrix test walks (every route × every role).
 *
 * access: `public` (no key), `authenticated` (any valid key), or a permission.
 * callScoped: the route acts on one call, which must belong to one of the
 * user's teams when the role's scope is `teams` (else 403).
 * agentScoped: the route acts on one agent (`:id`): allowed for the agent
 * itself (the API user whose name is the agent id), else it needs this
 * permission and, for a `teams` role, one of the agent's teams (else 403).
 * audit: the audit action every attempt is logged as (denials of any route are
 * logged as `request`).
 */
import type { Permission } from '../config/schema/api.js';
import type { AuditAction } from './audit/audit-log.js';

export type Access = Permission | 'authenticated' | 'public';

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly access: Access;
  readonly callScoped: boolean;
  readonly agentScoped?: Permission;
  readonly audit?: AuditAction;
  readonly summary: string;
  /** The operation's name in the OpenAPI document (what generated clients call it); API routes only. */
  readonly operationId?: string;
}

export const ROUTES = [
  { operationId: 'getOpenApi', method: 'GET', url: '/openapi.json', access: 'public', callScoped: false, summary: 'This API as an OpenAPI 3.1 document.' },
  { operationId: 'getMe', method: 'GET', url: '/me', access: 'authenticated', callScoped: false, summary: 'Who the key belongs to and what it may do.' },
  { operationId: 'listCalls', method: 'GET', url: '/calls', access: 'calls-view', callScoped: false, summary: 'Live calls (Connected, In Queue, ...), searchable and filterable.' },
  { operationId: 'getCall', method: 'GET', url: '/calls/:id', access: 'calls-view', callScoped: true, summary: "One live call's details." },
  { operationId: 'listMonitors', method: 'GET', url: '/calls/:id/monitors', access: 'calls-view', callScoped: true, summary: 'Who is monitoring the call.' },
  { operationId: 'startMonitor', method: 'POST', url: '/calls/:id/monitors', access: 'monitor', callScoped: true, audit: 'monitor.start', summary: "Listen silently: the engine calls the supervisor's device and sends it both parties mixed." },
  {
    operationId: 'createMonitorTicket',
    method: 'POST',
    url: '/calls/:id/monitor-tickets',
    access: 'monitor',
    callScoped: true,
    audit: 'monitor.ticket',
    summary: 'Listen in the browser: a one-time SIP URI for the web page to call over SIP WebSocket; it then hears both parties mixed.',
  },
  { operationId: 'stopMonitor', method: 'DELETE', url: '/calls/:id/monitors/:monitorId', access: 'monitor', callScoped: true, audit: 'monitor.stop', summary: "Stop monitoring (your own monitor; anyone's with monitor-edit). Answers with the monitor as stopped." },
  { operationId: 'endCall', method: 'POST', url: '/calls/:id/end', access: 'monitor-edit', callScoped: true, audit: 'call.end', summary: 'End a (stuck) call: every leg gets its BYE or CANCEL.' },
  { operationId: 'pauseRecording', method: 'POST', url: '/calls/:id/recording/pause', access: 'recording-control', callScoped: true, audit: 'recording.pause', summary: "Pause the call's recording (redaction)." },
  { operationId: 'resumeRecording', method: 'POST', url: '/calls/:id/recording/resume', access: 'recording-control', callScoped: true, audit: 'recording.resume', summary: "Resume the call's recording." },
  { operationId: 'getReservedData', method: 'GET', url: '/calls/:id/reserved-data', access: 'calls-view', callScoped: true, summary: "The caller's reserved data (verified customer, bad actor, repeat customer), its attestation and trunk." },
  { operationId: 'setReservedData', method: 'PUT', url: '/calls/:id/reserved-data', access: 'reserved-data-edit', callScoped: true, audit: 'reserved-data.set', summary: "Set the caller's reserved data mid-call (the seed's Apps API)." },
  { operationId: 'listAgents', method: 'GET', url: '/agents', access: 'calls-view', callScoped: false, summary: 'Agents with their state (ready, not ready and why, ringing, whisper, on call, wrap-up, logged out), call, calls taken and devices; static targets with their status.' },
  { operationId: 'getAgent', method: 'GET', url: '/agents/:id', access: 'authenticated', callScoped: false, agentScoped: 'calls-view', summary: 'One agent (your own, or one of your teams with calls-view).' },
  { operationId: 'setAgentState', method: 'POST', url: '/agents/:id/state', access: 'authenticated', callScoped: false, agentScoped: 'agent-state', audit: 'agent.state', summary: "Change an agent's state: ready, not-ready (with a reason), logged-out. Your own, or another's with agent-state." },
  { operationId: 'listQueues', method: 'GET', url: '/queues', access: 'calls-view', callScoped: false, summary: 'Waiting queues: calls waiting, longest wait, agents ready and busy, answered, overflowed, abandoned.' },
  { operationId: 'streamEvents', method: 'GET', url: '/events', access: 'calls-view', callScoped: false, summary: 'Server-Sent Events: call and agent changes as they happen.' },
  { operationId: 'listAudit', method: 'GET', url: '/audit', access: 'audit-view', callScoped: false, summary: 'The latest audit log entries.' },
] as const satisfies readonly RouteSpec[];

/**
 * The web console's static files: public (the page signs in with a key and
 * calls the routes above), outside the OpenAPI document and the permission
 * matrix, which are about the API.
 */
export const CONSOLE_ROUTES = [
  { method: 'GET', url: '/', access: 'public', callScoped: false, summary: "The supervisors' web console." },
  { method: 'GET', url: '/console/:file', access: 'public', callScoped: false, summary: "The web console's script, style sheet and icon." },
] as const satisfies readonly RouteSpec[];

export type RouteKey = `${(typeof ROUTES)[number]['method']} ${(typeof ROUTES)[number]['url']}`;

export function routeSpec(key: RouteKey | `${(typeof CONSOLE_ROUTES)[number]['method']} ${(typeof CONSOLE_ROUTES)[number]['url']}`): RouteSpec {
  const spec = [...ROUTES, ...CONSOLE_ROUTES].find((r) => `${r.method} ${r.url}` === key);
  if (spec === undefined) throw new Error(`route ${key} is not in the route table`);
  return spec;
}
