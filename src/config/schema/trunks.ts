import { Type } from '@sinclair/typebox';
import { Host, Id, Port, StringEnum } from './common.js';

/*
 * Carrier trunks (owned by src/engine/trunks/, explained in README "Carrier
 * trunks and reserved data"): inbound trunks are the sources calls come from
 * (identified by address, port and transport; trusted or not for reserved
 * data; with their numbers and limits); outbound trunks are the gateways the
 * engine dials phone numbers through (the phone-number deflection).
 * Top-level keys are spread into the root schema.
 */

const TrunkSource = Type.Object(
  {
    address: Type.Optional(
      Type.String({
        minLength: 2,
        maxLength: 64,
        description: 'An IP address (192.0.2.10, 2001:db8::1) or a CIDR block (192.0.2.0/24, 2001:db8::/32) the INVITEs come from. Default (with tlsIdentity only): any address.',
      }),
    ),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Only this source port. Default: any.' })),
    transport: Type.Optional(StringEnum(['udp', 'tcp', 'tls', 'ws', 'wss'] as const, { description: 'Only this transport, as apps are told it (as drachtio-server does: WebSocket as tcp, secure WebSocket as tls; ws and wss are refused). Default: any.' })),
    tlsIdentity: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: '^[A-Za-z0-9.:-]+$',
        errorHint: 'a domain name (sbc.carrier.example) or an IP address, without scheme or wildcard',
        description:
          "Only TLS/WSS connections whose client certificate chains to the listener's caFile and names this domain (a sip: URI or DNS subjectAltName, or the CN without any; RFC 5922 §7.1) or IP address (an iPAddress subjectAltName), exactly and case-insensitively, no wildcards (§7.2). Such a source outranks any address-only one. Needs the embedded SIP server and a tls or wss listener with verifyClient optional or required.",
      }),
    ),
  },
  { additionalProperties: false, description: 'Where a trunk\'s INVITEs come from: an address, a certificate identity, or both.' },
);

/** A call rate and a number of live calls, for a trunk or for the sources no trunk claims. */
function callLimits(description: string) {
  return Type.Object(
    {
      callsPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10000, description: 'New calls per second (a token bucket); over it: 503 with Retry-After.' })),
      burst: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: 'Calls a quiet trunk may start at once. Default: twice callsPerSecond (at least 1).' })),
      concurrentCalls: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000, description: 'Live calls at once; over it: 503 with Retry-After.' })),
      retryAfterSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 5, description: 'Retry-After of the 503 for the concurrent-call limit (the rate limit says when its next call is allowed).' }),
    },
    { additionalProperties: false, default: {}, description },
  );
}

const InboundTrunk = Type.Object(
  {
    id: Id('Trunk id, as call records and logs name it.'),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Display name for logs and call records.' })),
    sources: Type.Array(TrunkSource, {
      minItems: 1,
      description: 'Where the trunk sends from (any one matches). A source matching several trunks belongs to the most specific (a verified TLS identity, then the longest prefix, then port, then transport).',
    }),
    trusted: Type.Boolean({
      default: false,
      description: "Whether the trunk's headers are believed: reserved data (headerMapping), caller attestation (verstat) and copied headers are read only from trusted trunks.",
    }),
    headerMapping: Type.Optional(Id('The reservedData.headerMappings[].id this trusted trunk sends reserved data with.')),
    numbers: Type.Optional(
      Type.Array(Type.String({ pattern: '^\\+?[A-Za-z0-9*#._-]+$', errorHint: 'a dialed number, or a prefix ending in * (+1555*)' }), {
        description: 'Dialed numbers the trunk may call (a trailing * matches a prefix); others get 403. Default: any.',
      }),
    ),
    limits: callLimits('Per-trunk limits (other trunks are not affected).'),
  },
  { additionalProperties: false, description: 'A carrier (or SBC, or virtual agent) that sends calls in.' },
);

const OutboundTrunk = Type.Object(
  {
    id: Id('Trunk id, referenced from engine.outboundTrunk.'),
    name: Type.Optional(Type.String({ minLength: 1, description: 'Display name for logs and call records.' })),
    host: Host('The carrier gateway (host name or IP literal).'),
    port: Port('Its SIP port.', 5060),
    transport: StringEnum(['udp', 'tcp', 'tls'] as const, { default: 'udp', description: 'Transport towards the gateway.' }),
    username: Type.Optional(Type.String({ minLength: 1, description: 'Digest user name for 401/407 challenges (RFC 2617 MD5, RFC 8760 SHA-256).' })),
    password: Type.Optional(Type.String({ minLength: 1, description: 'Digest password (a secret: never logged). Use password or passwordFile.' })),
    passwordFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the digest password (first line).' })),
    numberFormat: StringEnum(['e164', 'digits'] as const, {
      default: 'e164',
      description: "How the dialed number goes into the Request-URI: 'e164' (+15550199) or 'digits' (15550199, without the +).",
    }),
    callerId: Type.Optional(
      Type.String({
        pattern: '^\\+[1-9][0-9]{1,14}$',
        errorHint: 'an E.164 number such as +15551234567',
        description: "Number shown to the called party (From). Default: the caller's own number, unless withheld.",
      }),
    ),
    ringTimeoutSeconds: Type.Number({
      exclusiveMinimum: 0,
      maximum: 600,
      default: 60,
      description:
        "How long a call through this trunk may go unanswered: then its INVITE is CANCELled (RFC 3261 §9.1) and the caller gets 480 when the gateway rang (180/183), 408 when it sent nothing past 100 Trying (RFC 3398 §8.2.6.1). With the embedded SIP server, at least 2 s below sipServer.timers.appResponseTimeoutMs (64 s), whose 500 would otherwise reach the caller first.",
    }),
    redirectionHeader: StringEnum(['history-info', 'diversion', 'none'] as const, {
      default: 'history-info',
      description:
        "How the gateway is told a deflected call was forwarded from the number the caller dialed (carriers check a caller's number on our trunk against it): 'history-info' (RFC 7044, with the RFC 4458 cause: 302 closed, 408 overflow), 'diversion' (RFC 5806, reason time-of-day or no-answer), or 'none'.",
    }),
    trustedIdentity: Type.Boolean({
      default: false,
      description:
        "Whether the gateway is inside our trust domain for asserted identities (RFC 3325 §2.3): a P-Asserted-Identity received from a trusted inbound trunk is passed on to it, with the caller's privacy kept (Privacy: id). When false, no P-Asserted-Identity goes out.",
    }),
  },
  { additionalProperties: false, description: 'A carrier gateway the engine places outbound calls through.' },
);

export const TrunksTopLevel = {
  trunks: Type.Object(
    {
      unknownSources: StringEnum(['untrusted', 'refuse'] as const, {
        default: 'untrusted',
        description: 'INVITEs from a source no inbound trunk matches: accepted as untrusted (no reserved data), or refused with 403.',
      }),
      unknownSourceLimits: callLimits(
        'Limits shared by every call from sources no inbound trunk claims (accepted untrusted): without them such callers can take every media relay port and agent your trunks need. Default: none (the engine logs a warning at start when inbound trunks are configured).',
      ),
      inbound: Type.Array(InboundTrunk, { default: [], description: 'Inbound trunks (where calls come from).' }),
      outbound: Type.Array(OutboundTrunk, { default: [], description: 'Outbound trunks (carrier gateways).' }),
    },
    { additionalProperties: false, default: {}, description: 'Carrier trunks.' },
  ),
};
