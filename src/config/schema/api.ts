import { Type } from '@sinclair/typebox';
import { Host, Id, Port, SipUri, StringEnum } from './common.js';

/**
 * Every permission a role can carry. The seed's "Monitor-Chats-Edit" is
 * `monitor-edit`; `agent-state` changes other agents' states (an agent may
 * always change its own). The list is here (not in src/api) so the schema and the API
 * share one vocabulary.
 */
export const PERMISSIONS = ['calls-view', 'monitor', 'monitor-edit', 'recording-control', 'reserved-data-edit', 'audit-view', 'agent-state'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Built-in roles; custom roles may not reuse these names. */
export const BUILT_IN_ROLES = ['admin', 'manager', 'supervisor', 'agent'] as const;

const PermissionName = StringEnum(PERMISSIONS, { description: 'A permission.' });

/** A user name, as keys, the audit log and call records show it. */
export const UserName = (description: string) =>
  Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$', description, errorHint: 'a user name: a letter or digit, then up to 63 letters, digits, ".", "_", "@" or "-"' });

/** The stored form of an API key: its id and the SHA-256 of the whole key (src/api/auth/api-key.ts). */
export const KeyEntryFields = {
  id: Type.String({ pattern: '^[a-z0-9]{8,32}$', errorHint: '8 to 32 lower-case letters and digits', description: 'The key id (the part of the key before the dot, after `sbk_`).' }),
  user: UserName('Who the key belongs to.'),
  role: Id('A built-in role (admin, manager, supervisor, agent) or the id of a role under api.roles.'),
  teams: Type.Optional(Type.Array(Id("A team (a queue's `team`)."), { description: 'Teams the user acts for (roles with scope `teams`).' })),
  device: Type.Optional(SipUri("The user's own SIP device, called when a monitor request names none.")),
  hash: Type.String({ pattern: '^sha256:[0-9a-f]{64}$', errorHint: 'sha256: then 64 hex digits', description: 'SHA-256 of the whole key, as `switchboard keys add` prints it.' }),
};

export const ApiSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: "Serve the supervisors' HTTP API (`switchboard start`)." }),
    host: Host('Address the API listens on.', '127.0.0.1'),
    port: Port('Port of the API (0 picks a free port).', 9092),
    maxConnections: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 1000,
      description: 'Connections the API takes at once (each console, event stream and client); past it a new one is closed at once. Bounds what anyone who reaches the port can hold open.',
    }),
    idleTimeoutSeconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 30,
      description: 'A connection that sends nothing (no request started, or a request not completed) for this long is closed; an event stream is kept alive by its keep-alive comments (every 15 s).',
    }),
    keysFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'The API keys file (written by `switchboard keys`, re-read on SIGHUP and when it changes). Default: <stateDir>/api/keys.json.',
      }),
    ),
    auditFile: Type.Optional(Type.String({ minLength: 1, description: 'The audit log (JSON lines, appended). Default: <stateDir>/api/audit.jsonl.' })),
    keys: Type.Array(Type.Object(KeyEntryFields, { additionalProperties: false }), {
      default: [],
      description: 'Keys kept in the configuration (hashed entries, as `switchboard keys add` writes them into the keys file). Usually keys live in keysFile instead, where they can be added and revoked without touching this file.',
    }),
    roles: Type.Array(
      Type.Object(
        {
          id: Id("The role's name."),
          permissions: Type.Array(PermissionName, { description: `What the role may do: ${PERMISSIONS.join(', ')}.` }),
          scope: StringEnum(['all', 'teams'] as const, {
            default: 'teams',
            description: '`all`: every call and agent; `teams`: only those of the teams assigned to the user (as a manager).',
          }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'Custom roles, made of permissions.' },
    ),
    stuckCalls: Type.Object(
      {
        thresholdSeconds: Type.Integer({ minimum: 1, default: 18000, description: "Calls older than this are flagged `stuck` in the lists (the seed's example: 5 hours)." }),
        autoEnd: Type.Boolean({ default: false, description: 'End stuck calls automatically (audited as done by `system`).' }),
      },
      { additionalProperties: false, default: {}, description: 'Stuck calls.' },
    ),
    monitor: Type.Object(
      {
        ringTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 300, default: 30, description: "How long a supervisor's device may ring before the monitor request fails." }),
        ticketSeconds: Type.Integer({
          minimum: 5,
          maximum: 300,
          default: 30,
          description: 'How long a browser has to call in with a monitor ticket (POST /calls/{id}/monitor-tickets, the web console) before the ticket expires. Each ticket is usable once.',
        }),
        probeSeconds: Type.Integer({
          minimum: 1,
          maximum: 3600,
          default: 15,
          description:
            "How often a listening monitor's device is asked (an OPTIONS in its dialog) whether it is still there: a device gone without a BYE (a closed browser tab, its WebSocket closed; a phone off the network) stops its monitor. 408, 481, or 503 from the SIP server when it cannot reach the device (no answer: after the transaction timeout, 32 s) end it.",
        }),
      },
      { additionalProperties: false, default: {}, description: 'Silent monitoring.' },
    ),
    console: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: "Serve the supervisors' web console at / of the API (sign in with an API key)." }),
        sipWebSocketUrl: Type.Optional(
          Type.String({
            pattern: '^wss?://[^\\s/?#]+(/[^\\s]*)?$',
            errorHint: 'a ws:// or wss:// URL',
            description:
              "The SIP WebSocket server (RFC 7118) browsers reach to listen, e.g. wss://sip.example.com:443 behind a proxy. Default: the embedded SIP server's first wss listener, else its first ws listener (at the host name the browser used for the console when the listener is on all addresses).",
          }),
        ),
      },
      { additionalProperties: false, default: {}, description: "The supervisors' web console: live calls and agents, call details, monitoring in the browser (WebRTC), ending calls." },
    ),
  },
  { additionalProperties: false, default: {}, description: "The supervisors' HTTP API (live calls, monitoring, ending calls, audit)." },
);

/** The queue fields the API reads. */
export const QueueApiFields = Type.Object({
  team: Type.Optional(Id('The team the queue (and so its calls and agents) belongs to; managers see only their teams.')),
});

export const ApiTopLevel = { api: ApiSchema };
