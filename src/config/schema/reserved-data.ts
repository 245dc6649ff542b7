import { Type } from '@sinclair/typebox';
import { Id, StringEnum } from './common.js';

/*
 * Reserved data (PRODUCT.md §4; owned by src/engine/reserved/, explained in
 * README "Carrier trunks and reserved data"): how trusted trunks' SIP headers
 * become the three reserved properties, what the agent leg carries, what a
 * failed caller attestation does, and the data parameters carried outward
 * (the seed's `setting.redirection.sip`, whose snake_case keys are kept).
 */

/** The reserved properties of the product (the seed's names). */
export const RESERVED_PROPERTIES = ['reserved_verified_customer', 'reserved_bad_actor', 'reserved_repeat_customer'] as const;
export type ReservedProperty = (typeof RESERVED_PROPERTIES)[number];

/**
 * What a data parameter of source `session_metadata` may read: the reserved
 * properties, the caller, the queue, the trunk and the attestation.
 */
export const SESSION_METADATA_FIELDS = [
  ...RESERVED_PROPERTIES,
  'caller_number',
  'caller_name',
  'dialed_number',
  'queue',
  'queue_name',
  'language',
  'trunk',
  'caller_attestation',
  'call_id',
  'sip_call_id',
] as const;
export type SessionMetadataField = (typeof SESSION_METADATA_FIELDS)[number];

/** RFC 3261 §25.1 token: what a header name is. */
export const HEADER_NAME_PATTERN = "^[A-Za-z0-9.!%*_+`'~-]+$";
const HeaderName = (description: string) =>
  Type.String({ pattern: HEADER_NAME_PATTERN, maxLength: 64, errorHint: 'a SIP header name (an RFC 3261 token such as X-Reserved-Data)', description });

const MappedHeader = Type.Object(
  {
    name: HeaderName('The header of the incoming INVITE (matched case-insensitively, RFC 3261 §7.3.1).'),
    format: StringEnum(['boolean', 'parameters', 'uui'] as const, {
      description:
        "boolean: the whole value is one flag (`true`/`false`/`1`/`0`/`yes`/`no`, any case) for `property`; parameters: `name=value` pairs separated by `;` (`verified_customer=true;bad_actor=false`, any subset, any order), names from `parameters`; uui: RFC 7433 User-to-User data whose decoded payload is in the parameters form.",
    }),
    property: Type.Optional(StringEnum(RESERVED_PROPERTIES, { description: 'For format boolean: the property the header sets.' })),
    parameters: Type.Optional(
      Type.Record(Type.String(), StringEnum(RESERVED_PROPERTIES, { description: 'A reserved property.' }), {
        description:
          'For formats parameters and uui: parameter name → property. Default: verified_customer, bad_actor, repeat_customer → reserved_verified_customer, reserved_bad_actor, reserved_repeat_customer. Names are matched exactly (case-sensitive).',
      }),
    ),
    encoding: Type.Optional(
      StringEnum(['hex', 'none'] as const, {
        description:
          "For format uui: how the UUI data is encoded when the header names no `encoding` (RFC 7433 §4.1: hex is the only registered encoding; the default package's data is hex). A header naming an encoding other than the one configured is refused. Default hex.",
      }),
    ),
    purpose: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z0-9.!%*_+`'~-]{1,64}$",
        errorHint: 'an RFC 7433 package name (a token)',
        description: "For format uui: only UUI values of this package (the `purpose` parameter; absent means isdn-uui, RFC 7433 §4.1) are read. Default: any package.",
      }),
    ),
    discriminator: Type.Optional(
      Type.Boolean({ description: 'For format uui: the decoded data starts with an ISDN protocol discriminator octet (RFC 7434, Q.931), which is skipped. Default false.' }),
    ),
  },
  { additionalProperties: false, description: 'One header a mapping reads.' },
);

const HeaderMapping = Type.Object(
  {
    id: Id('Mapping id, referenced from trunks.inbound[].headerMapping.'),
    headers: Type.Array(MappedHeader, { minItems: 1, description: 'The headers read, each in its format.' }),
    maxHeaderBytes: Type.Integer({
      minimum: 16,
      maximum: 4096,
      default: 256,
      description: 'A mapped header longer than this (in bytes) is refused whole, and sets no flag.',
    }),
  },
  { additionalProperties: false, description: 'How a trusted trunk tells the reserved properties in SIP headers.' },
);

export const ReservedDataSchema = Type.Object(
  {
    headerMappings: Type.Array(HeaderMapping, { default: [], description: 'Header mappings, used by trusted inbound trunks.' }),
    agentLeg: Type.Object(
      {
        flagsHeader: Type.Optional(
          HeaderName('Header of the agent leg listing the properties that are true, by short name (`X-Reserved-Flags: verified_customer,repeat_customer`); absent when none is true.'),
        ),
        valueHeaders: Type.Optional(
          Type.Record(Type.String(), HeaderName('Header name.'), {
            description: 'Reserved property → header of the agent leg carrying `true` or `false` when the property is set (absent when unset).',
          }),
        ),
        attestationHeader: Type.Optional(HeaderName("Header of the agent leg carrying the caller's attestation (`passed`, `failed`, `no-validation`) when known.")),
        passHeaders: Type.Array(HeaderName('An incoming header.'), {
          default: [],
          description:
            "Incoming headers copied to the agent leg as they are (trusted trunks only; a value that is repeated, over 256 bytes or not printable ASCII is not copied). Nothing else of the caller's INVITE reaches the agent.",
        }),
      },
      { additionalProperties: false, default: {}, description: 'What the agent leg (the agent adapter) is told about the caller.' },
    ),
    attestation: Type.Object(
      {
        failedQueue: Type.Optional(
          Id('Calls whose caller failed STIR/SHAKEN validation (verstat=TN-Validation-Failed from a trusted trunk) go to this queue instead of the dialed one.'),
        ),
      },
      { additionalProperties: false, default: {}, description: 'Caller attestation (STIR/SHAKEN verstat, RFC 8224 / ATIS-1000074) read from trusted trunks.' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'Reserved data: verified customer, bad actor, repeat customer.' },
);

const DataParameter = Type.Object(
  {
    field: HeaderName('The header of the outbound INVITE the value goes into (e.g. X-Verified-Customer).'),
    type: StringEnum(['dynamic', 'static'] as const, { description: 'dynamic: read from `source`/`source_field`; static: always `value`.' }),
    source: Type.Optional(
      StringEnum(['session_metadata', 'sip_header'] as const, {
        description: "For dynamic: session_metadata (the call's metadata: reserved flags, caller, queue, ...) or sip_header (a header of the caller's INVITE, trusted trunks only).",
      }),
    ),
    source_field: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: `For dynamic: the metadata field (${SESSION_METADATA_FIELDS.join(', ')}) or the incoming header's name.`,
      }),
    ),
    value: Type.Optional(Type.String({ pattern: '^[\\x20-\\x7e]{1,256}$', errorHint: '1 to 256 printable ASCII characters', description: 'For static: the value.' })),
  },
  { additionalProperties: false, description: 'One data parameter (the seed: {field, type, source, source_field}).' },
);

export const RedirectionSchema = Type.Object(
  {
    sip: Type.Object(
      {
        data_parameters_enabled: Type.Boolean({ default: false, description: 'Put the data parameters into the INVITE of calls sent on (phone-number deflection, transfers).' }),
        data_parameters: Type.Array(DataParameter, { default: [], description: 'The data parameters, in order.' }),
        data_records: Type.Object(
          {
            in_metadata: Type.Boolean({ default: false, description: 'Write the values sent into the call record (`dataParameters`).' }),
            in_crm_record: Type.Boolean({ default: false, description: "Write the values sent into the CRM metadata of the call's recording, when it has one." }),
          },
          { additionalProperties: false, default: {}, description: 'Where the values sent are also kept.' },
        ),
      },
      { additionalProperties: false, default: {}, description: 'Redirection to a SIP URI or phone number.' },
    ),
  },
  { additionalProperties: false, default: {}, description: "Data carried outward when a call is sent on (the seed's setting.redirection)." },
);

export const ReservedDataTopLevel = { reservedData: ReservedDataSchema, redirection: RedirectionSchema };
