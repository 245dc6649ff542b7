import { Type } from '@sinclair/typebox';
import { Host, Port, StringEnum } from './common.js';

/** Certificate, key and verification of a `tls` or `wss` listener (RFC 3261 §26, RFC 5922). */
const ListenerTls = Type.Object(
  {
    certFile: Type.String({
      minLength: 1,
      description: "PEM certificate (with its chain) of this listener, also presented as client certificate on connections it opens. Relative to the config file's folder; re-read on SIGHUP.",
    }),
    keyFile: Type.String({ minLength: 1, description: 'Unencrypted PEM private key of certFile. Re-read on SIGHUP.' }),
    caFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "PEM CA bundle trusted for client certificates and for the servers this listener connects to (replaces Node's root CAs). Required with verifyClient.",
      }),
    ),
    verifyClient: StringEnum(['off', 'optional', 'required'] as const, {
      default: 'off',
      description:
        "Client certificates: 'off' (not asked), 'optional' (asked; one that does not verify against caFile is refused), 'required' (clients without a valid one are refused).",
    }),
    verifyServer: Type.Boolean({
      default: true,
      description: 'Verify the certificate of servers reached over TLS (chain, and the SIP domain per RFC 5922: the URI host must be a sip: URI or DNS name of the certificate, no wildcards).',
    }),
    minVersion: StringEnum(['TLSv1.2', 'TLSv1.3'] as const, { default: 'TLSv1.2', description: 'Oldest TLS version accepted or offered.' }),
  },
  { additionalProperties: false, description: 'TLS settings (tls and wss listeners only).' },
);

const Listener = Type.Object(
  {
    transport: StringEnum(['udp', 'tcp', 'tls', 'ws', 'wss'] as const, {
      description: "SIP transport of this listener: 'udp', 'tcp', 'tls' (RFC 3261 §26), 'ws' or 'wss' (SIP over WebSocket, RFC 7118).",
    }),
    host: Host('Local address to bind (IPv4 or IPv6 literal).', '127.0.0.1'),
    port: Port('Local port to bind (0 picks a free port).', 5060),
    advertisedHost: Type.Optional(
      Host('Address written into Via, Contact and SDP-independent headers when it differs from the bound one (NAT).'),
    ),
    tls: Type.Optional(ListenerTls),
  },
  { additionalProperties: false },
);

const Method = Type.String({ pattern: "^[A-Za-z0-9.!%*_+`'~-]+$", description: 'A SIP method (case-sensitive, RFC 3261 §7.1).' });
const MediaRange = Type.String({ pattern: "^[A-Za-z0-9.!%*_+`'~-]+/[A-Za-z0-9.!%*_+`'~-]+$", description: 'A media type, type/subtype.' });

const Uas = Type.Object(
  {
    allowMethods: Type.Array(Method, {
      default: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'UPDATE'],
      description:
        'Methods served outside a dialog even while no app routes them (they then get 503). Any other method gets 405 (a method of RFC 3261 or its extensions) or 501, with Allow, unless a connected app routes it. ACK, CANCEL and PRACK are always handled (and listed in Allow).',
    }),
    bodyTypes: Type.Array(
      Type.Object(
        {
          methods: Type.Array(Method, { minItems: 1, description: 'Methods whose bodies are checked.' }),
          types: Type.Array(MediaRange, { minItems: 1, description: 'Body types they may carry.' }),
        },
        { additionalProperties: false },
      ),
      {
        default: [{ methods: ['INVITE', 'UPDATE'], types: ['application/sdp'] }],
        description:
          'Readable body types per method: another type gets 415 with Accept, a Content-Encoding 415 with Accept-Encoding, and an INVITE whose Accept excludes them 406. multipart/mixed, /alternative and /related bodies (RFC 5621) are taken when a part is readable. Methods not listed take any body (their app decides).',
      },
    ),
  },
  { additionalProperties: false, default: {}, description: 'What the UAS core answers by itself (RFC 3261 §8.2).' },
);

const Overload = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Refuse new INVITEs with 503 while the machine is overloaded.' }),
    sampleIntervalMs: Type.Integer({ minimum: 10, maximum: 60000, default: 500, description: 'How often event-loop lag and CPU are read.' }),
    eventLoopLagEnterMs: Type.Number({
      minimum: 1,
      default: 150,
      description: 'Overloaded when the event-loop lag (90th percentile over an interval) of the SIP server thread or the app thread reaches this.',
    }),
    eventLoopLagLeaveMs: Type.Number({ minimum: 0, default: 40, description: 'No longer overloaded once both lags are below this (and CPU below its leave level).' }),
    cpuEnterPercent: Type.Number({
      minimum: 0,
      maximum: 100,
      default: 90,
      description:
        "Overloaded when the machine's CPU (all cores, all processes: rtpengine and anything else on the box compete for them) reaches this over an interval while at least cpuMinWaitingInvites new INVITEs wait for their first response; 0 turns the CPU criterion off.",
    }),
    cpuLeavePercent: Type.Number({ minimum: 0, maximum: 100, default: 70, description: 'CPU level under which the overload ends (or when fewer than half of cpuMinWaitingInvites wait).' }),
    cpuMinWaitingInvites: Type.Integer({
      minimum: 0,
      default: 100,
      description: 'New INVITEs that must be waiting for their first response for the CPU criterion to count: a busy machine that still answers promptly is not overloaded.',
    }),
    retryAfterSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 5, description: 'Retry-After of 503s for overload and rate limits.' }),
    leaveAfterMs: Type.Integer({
      minimum: 0,
      maximum: 600000,
      default: 1000,
      description: 'How long the leave levels must hold (consecutive samples) before new INVITEs are taken again.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Overload control for new INVITEs (in-dialog requests and calls in progress are never refused).' },
);

const RateLimit = Type.Object(
  {
    perSourcePerSecond: Type.Number({
      minimum: 0,
      default: 0,
      description:
        'New out-of-dialog requests per second allowed from one source address (retransmissions, ACK and CANCEL do not count); over it: 503 with Retry-After. 0 (the default) turns the limit off, since behind a proxy every request comes from one address.',
    }),
    burst: Type.Integer({ minimum: 0, default: 0, description: 'Requests a quiet source may send at once; 0 means twice the per-second rate.' }),
    maxSources: Type.Integer({ minimum: 1, default: 10000, description: 'Sources tracked at most (bounded memory); the least recently seen is forgotten first.' }),
  },
  { additionalProperties: false, default: {}, description: 'Per-source rate limit (a token bucket per source IP address).' },
);

const Scanners = Type.Object(
  {
    userAgents: Type.Array(Type.String({ minLength: 1 }), {
      default: ['friendly-scanner', 'friendly-request', 'sipvicious', 'sipcli', 'sip-scan', 'sipscan', 'VaxSIPUserAgent', 'pplsip', 'iWar', 'sundayddr', 'SIVuS', 'siparmyknife'],
      description: 'Case-insensitive substrings of User-Agent that mark a scanner; an empty list turns the check off.',
    }),
    action: StringEnum(['drop', 'reject'] as const, {
      default: 'drop',
      description: "'drop': no answer (a scanner learns nothing, and spoofed sources get no reflected traffic); 'reject': 403 Forbidden.",
    }),
  },
  { additionalProperties: false, default: {}, description: 'Refusing new requests from known SIP scanners, counted and never logged per packet.' },
);

/**
 * The embedded drachtio-compatible SIP server. It speaks SIP on `listen` and
 * the drachtio control protocol on `control`.
 */
export const SipServerSchema = Type.Object(
  {
    embedded: Type.Boolean({
      default: true,
      description:
        'Run the embedded SIP server. Set to false to connect the engine to a real drachtio-server given under `drachtio`.',
    }),
    thread: StringEnum(['worker', 'inline'] as const, {
      default: 'worker',
      description:
        "Where the embedded server runs: 'worker' (its own thread, so it does not share the app's event loop) or 'inline' (same thread; for debugging).",
    }),
    listen: Type.Array(Listener, {
      minItems: 1,
      default: [
        { transport: 'udp', host: '127.0.0.1', port: 5060 },
        { transport: 'tcp', host: '127.0.0.1', port: 5060 },
      ],
      description: 'SIP listeners.',
    }),
    control: Type.Object(
      {
        host: Host('Address the drachtio control port listens on.', '127.0.0.1'),
        port: Port('drachtio control port (drachtio-server uses 9022).', 9022),
        secret: Type.String({ minLength: 1, default: 'cymru', description: 'Shared secret apps authenticate with.' }),
      },
      { additionalProperties: false, default: {}, description: 'drachtio control channel.' },
    ),
    timers: Type.Object(
      {
        t1Ms: Type.Integer({ minimum: 1, maximum: 60000, default: 500, description: 'RFC 3261 T1 (RTT estimate).' }),
        t2Ms: Type.Integer({ minimum: 1, maximum: 600000, default: 4000, description: 'RFC 3261 T2 (max non-INVITE retransmit interval).' }),
        t4Ms: Type.Integer({ minimum: 1, maximum: 600000, default: 5000, description: 'RFC 3261 T4 (max message lifetime).' }),
        appResponseTimeoutMs: Type.Integer({
          minimum: 100,
          default: 64000,
          description: 'How long an app may take to answer a new request before the server answers 500 itself; for an INVITE, counted from the last provisional response the app sent.',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Transaction timers.' },
    ),
    connections: Type.Object(
      {
        maxPerListener: Type.Integer({ minimum: 1, default: 10000, description: 'Open connections per TCP, TLS, WS or WSS listener; past it a new connection is closed at once and counted (refusedConnections).' }),
        maxPerSource: Type.Integer({
          minimum: 1,
          default: 1000,
          description: 'Open connections per listener from one source address (one peer holding idle connections cannot fill the listener); raise it when more phones than this reach the engine from behind one NAT address.',
        }),
        idleTimeoutSeconds: Type.Integer({ minimum: 1, default: 900, description: 'A connection with no traffic for this long is closed.' }),
        handshakeTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 10, description: 'TLS and WebSocket handshakes must finish within this time.' }),
        keepAliveSeconds: Type.Integer({
          minimum: 1,
          default: 30,
          description: 'WebSocket ping interval; a client that has not answered the previous ping is disconnected (half-open connections).',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Connection-oriented transports (TCP, TLS, WS, WSS).' },
    ),
    maxMessageBytes: Type.Integer({
      minimum: 1024,
      maximum: 1048576,
      default: 65535,
      description: 'Largest SIP message accepted; larger ones get 513 (or are dropped when no response can be formed).',
    }),
    maxPendingInvites: Type.Integer({
      minimum: 1,
      default: 20000,
      description: 'New INVITEs waiting for an app answer above this get 503 with Retry-After (overload protection).',
    }),
    uas: Uas,
    overload: Overload,
    rateLimit: RateLimit,
    scanners: Scanners,
    cdrs: Type.Boolean({ default: true, description: 'Emit cdr:attempt/start/stop events to apps that route them.' }),
    sessionTimers: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: "RFC 4028 session timers on every INVITE dialog (refreshes, 422, BYE on expiry). Off: `Require: timer` gets 420 and Session-Expires is left to the apps.",
        }),
        defaultSeconds: Type.Integer({
          minimum: 1,
          maximum: 86400,
          default: 1800,
          description: 'Session-Expires asked for in INVITEs the apps send, and granted when a caller names none (RFC 4028 recommends 1800).',
        }),
        minSeconds: Type.Integer({
          minimum: 1,
          maximum: 86400,
          default: 90,
          description:
            'Our Min-SE: a Session-Expires below it gets 422. RFC 4028 §4 forbids less than 90 on the wire; smaller values are for tests only.',
        }),
      },
      { additionalProperties: false, default: {}, description: 'RFC 4028 session timers, handled by the server for every app.' },
    ),
    userAgent: Type.String({ default: 'switchboard', description: 'Server header on every response: those the server builds, and those of apps that name no Server themselves.' }),
  },
  { additionalProperties: false, default: {}, description: 'The embedded drachtio-compatible SIP server.' },
);

/** Where the engine's drachtio-srf app connects. */
export const DrachtioSchema = Type.Object(
  {
    host: Type.Optional(Host('drachtio-server host. Default: the embedded server (sipServer.control.host).')),
    port: Type.Optional(Port('drachtio-server control port. Default: sipServer.control.port.')),
    secret: Type.Optional(Type.String({ minLength: 1, description: 'Shared secret. Default: sipServer.control.secret.' })),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Connection of the engine to a drachtio server: the embedded one by default, or a real drachtio-server.',
  },
);
