import { Type } from '@sinclair/typebox';
import { Host, Id, Port, StringEnum } from './common.js';

/*
 * Carrier trunks (owned by src/engine/, explained in README "Carrier trunks"):
 * outbound trunks are the gateways the engine dials phone numbers through
 * (the phone-number deflection). Top-level keys are spread into the root schema.
 */

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
  },
  { additionalProperties: false, description: 'A carrier gateway the engine places outbound calls through.' },
);

export const TrunksTopLevel = {
  trunks: Type.Object(
    {
      outbound: Type.Array(OutboundTrunk, { default: [], description: 'Outbound trunks (carrier gateways).' }),
    },
    { additionalProperties: false, default: {}, description: 'Carrier trunks.' },
  ),
};
