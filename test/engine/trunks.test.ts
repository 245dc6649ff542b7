/**
 * Inbound trunks as units: addresses and CIDR blocks (RFC 4632, RFC 4291),
 * which trunk a source belongs to (the most specific rule), the numbers a
 * trunk may call, its limits (token bucket and live calls, with the
 * Retry-After each gives), and the configuration checks of trunks, reserved
 * data and data parameters (every problem in one error).
 */
import { describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigObject } from '../../src/config/load.js';
import { cidrContains, parseCidr, parseIp, type CidrBlock } from '../../src/engine/trunks/ip-address.js';
import { InboundTrunks, TrunkMatcher } from '../../src/engine/trunks/inbound-trunks.js';
import { TrunkLimiter } from '../../src/engine/trunks/trunk-limits.js';
import { ConfigError } from '../../src/errors.js';

const block = (t: string): CidrBlock => {
  const b = parseCidr(t);
  if (typeof b === 'string') throw new Error(b);
  return b;
};
const contains = (b: string, a: string): boolean => cidrContains(block(b), parseIp(a)!);

describe('addresses and blocks', () => {
  it('IPv4 and IPv6 text forms (RFC 4291 §2.2: ::, embedded IPv4, brackets, zones)', () => {
    expect(parseIp('127.0.0.2')).toEqual({ family: 4, value: 0x7f000002n });
    expect(parseIp('::1')).toEqual({ family: 6, value: 1n });
    expect(parseIp('[2001:db8::1]')).toEqual({ family: 6, value: 0x20010db8000000000000000000000001n });
    expect(parseIp('fe80::1%eth0')).toEqual({ family: 6, value: 0xfe800000000000000000000000000001n });
    expect(parseIp('64:ff9b::192.0.2.1')?.value).toBe(0x0064ff9b0000000000000000c0000201n);
    for (const bad of ['127.0.0', '256.1.1.1', '1.2.3.4.5', 'example.com', '', '::g', '1::2::3']) expect(parseIp(bad), bad).toBeUndefined();
  });

  it('an IPv4-mapped IPv6 address is the IPv4 address (RFC 4291 §2.5.5.2)', () => {
    expect(parseIp('::ffff:127.0.0.2')).toEqual(parseIp('127.0.0.2'));
    expect(contains('127.0.0.0/8', '::ffff:127.0.0.3')).toBe(true);
    expect(contains('::ffff:0:0/96', '10.1.2.3')).toBe(true);
    // A block of mapped addresses is that IPv4 block: the same prefix length, the same source.
    expect(parseCidr('::ffff:10.0.0.0/120')).toEqual({ family: 4, base: 0x0a000000n, prefix: 24, text: '::ffff:10.0.0.0/120' });
    expect(contains('::ffff:10.0.0.0/120', '10.0.0.200')).toBe(true);
    expect(contains('::ffff:10.0.0.0/120', '10.0.1.1')).toBe(false);
    expect(contains('::ffff:10.0.0.0/120', '2001:db8::1')).toBe(false);
  });

  it('blocks: prefix match, a bare address is a /32 or /128, host bits and bad prefixes refused', () => {
    expect(contains('192.0.2.0/24', '192.0.2.255')).toBe(true);
    expect(contains('192.0.2.0/24', '192.0.3.0')).toBe(false);
    expect(contains('0.0.0.0/0', '203.0.113.9')).toBe(true);
    expect(contains('127.0.0.2', '127.0.0.2')).toBe(true);
    expect(contains('127.0.0.2', '127.0.0.3')).toBe(false);
    expect(contains('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(contains('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(contains('192.0.2.0/24', '2001:db8::1')).toBe(false);
    expect(block('10.0.0.0/8').prefix).toBe(8);
    expect(parseCidr('192.0.2.1/24')).toBe('"192.0.2.1/24" has host bits set (the block is 192.0.2.0/24)');
    expect(parseCidr('192.0.2.0/33')).toMatch(/prefix "\/33" must be 0 to 32/);
    expect(parseCidr('2001:db8::/129')).toMatch(/0 to 128/);
    expect(parseCidr('10.0.0.0/x')).toMatch(/prefix/);
    expect(parseCidr('carrier.example/24')).toMatch(/not an IPv4 or IPv6 address/);
  });
});

function trunksOf(config: Record<string, unknown>): InboundTrunks {
  return new InboundTrunks(loadConfigObject(config, { checks: configChecks }));
}

describe('which trunk a source belongs to', () => {
  const trunks = trunksOf({
    trunks: {
      inbound: [
        { id: 'wide', sources: [{ address: '10.0.0.0/8' }] },
        { id: 'narrow', sources: [{ address: '10.1.0.0/16' }] },
        { id: 'narrow-tcp', sources: [{ address: '10.1.0.0/16', transport: 'tcp' }] },
        { id: 'port', sources: [{ address: '10.1.0.0/16', port: 5080 }] },
        { id: 'host', trusted: true, sources: [{ address: '10.1.2.3' }, { address: '2001:db8::7' }] },
      ],
    },
  });
  const id = (address: string, port = 5060, transport = 'udp'): string | undefined => trunks.identify({ address, port, transport })?.id;

  it('the longest prefix wins, then a port, then a transport; the rest is unknown', () => {
    expect(id('10.9.9.9')).toBe('wide');
    expect(id('10.1.9.9')).toBe('narrow');
    expect(id('10.1.9.9', 5060, 'tcp')).toBe('narrow-tcp');
    expect(id('10.1.9.9', 5080, 'tcp')).toBe('port');
    expect(id('10.1.2.3', 5080, 'tcp')).toBe('host');
    expect(id('2001:db8::7')).toBe('host');
    expect(id('::ffff:10.1.2.3')).toBe('host');
    expect(id('192.0.2.1')).toBeUndefined();
    expect(id('not an address')).toBeUndefined();
    expect(trunks.refuseUnknown).toBe(false);
  });

  it('a rule with a TLS identity matches only a source whose verified identities name it whole (RFC 5922 §7.2), and outranks an address', () => {
    const withTls = new TrunkMatcher([
      { rule: { block: block('192.0.2.0/24'), tlsIdentity: 'sbc.carrier.example' }, trunk: { id: 'x' } },
      { rule: { tlsIdentity: '198.51.100.7' }, trunk: { id: 'by-address-name' } },
      { rule: { block: block('192.0.2.5'), port: 5061 }, trunk: { id: 'port-only' } },
    ]);
    const source = { address: '192.0.2.5', port: 5061, transport: 'tls' };
    expect(withTls.identify(source)?.id).toBe('port-only');
    // Unverified certificates give no identities (the SIP server tells only verified ones).
    expect(withTls.identify({ ...source, tlsIdentities: [] })?.id).toBe('port-only');
    expect(withTls.identify({ ...source, tlsIdentities: ['sbc.carrier.example.evil', 'carrier.example', 'evil.sbc.carrier.example'] })?.id).toBe('port-only');
    expect(withTls.identify({ ...source, tlsIdentities: ['other.example', 'SBC.carrier.EXAMPLE'] })?.id).toBe('x');
    // Outside the rule's block the identity is not enough.
    expect(withTls.identify({ ...source, address: '203.0.113.9', tlsIdentities: ['sbc.carrier.example'] })).toBeUndefined();
    // A rule without an address: any address, by identity alone.
    expect(withTls.identify({ address: '2001:db8::9', port: 40000, transport: 'tls', tlsIdentities: ['198.51.100.7'] })?.id).toBe('by-address-name');
  });

  it('numbers a trunk may call: exact (with or without +) and prefixes ending in *', () => {
    const t = trunksOf({ trunks: { inbound: [{ id: 'c', sources: [{ address: '192.0.2.1' }], numbers: ['1000', '+1555*'] }, { id: 'any', sources: [{ address: '192.0.2.2' }] }] } });
    const c = t.all.find((x) => x.id === 'c')!;
    expect(['1000', '+1000', '15550100', '+15551234567'].map((n) => c.allows(n))).toEqual([true, true, true, true]);
    expect(['2000', '1556', '100', ''].map((n) => c.allows(n))).toEqual([false, false, false, false]);
    expect(t.all.find((x) => x.id === 'any')!.allows('anything')).toBe(true);
  });
});

describe('trunk limits', () => {
  it('the rate: a burst at once, then one call per 1/rate seconds; Retry-After says when the next is due', () => {
    let now = 0;
    const l = new TrunkLimiter({ callsPerSecond: 0.5, burst: 2, retryAfterSeconds: 9 }, () => now);
    const a = l.acquire();
    const b = l.acquire();
    const c = l.acquire();
    expect([a.ok, b.ok, c.ok]).toEqual([true, true, false]);
    expect(c).toEqual({ ok: false, limit: 'rate', retryAfterSeconds: 2 });
    now = 1000;
    expect(l.acquire()).toEqual({ ok: false, limit: 'rate', retryAfterSeconds: 1 });
    now = 2000;
    expect(l.acquire().ok).toBe(true);
    expect(l.counts).toMatchObject({ admitted: 3, refusedRate: 2, live: 3 });
  });

  it('concurrent calls: a slot per live call, given back once when the call ends; Retry-After as configured', () => {
    const l = new TrunkLimiter({ concurrentCalls: 2, retryAfterSeconds: 7 }, () => 0);
    const a = l.acquire();
    const b = l.acquire();
    expect(l.acquire()).toEqual({ ok: false, limit: 'concurrency', retryAfterSeconds: 7 });
    if (!a.ok || !b.ok) throw new Error('slots expected');
    a.release();
    a.release();
    expect(l.counts.live).toBe(1);
    expect(l.acquire().ok).toBe(true);
    expect(l.acquire().ok).toBe(false);
    expect(l.counts).toMatchObject({ live: 2, admitted: 3, refusedConcurrency: 2 });
  });

  it('a refused call takes no token: the concurrency refusal comes first', () => {
    const l = new TrunkLimiter({ concurrentCalls: 1, callsPerSecond: 1, burst: 1, retryAfterSeconds: 3 }, () => 0);
    const a = l.acquire();
    expect(l.acquire()).toMatchObject({ ok: false, limit: 'concurrency' });
    if (a.ok) a.release();
    // The bucket still had only the one token, which the first call took.
    expect(l.acquire()).toMatchObject({ ok: false, limit: 'rate' });
  });
});

function problems(config: Record<string, unknown>): string[] {
  try {
    loadConfigObject(config, { checks: configChecks });
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

const queues = [{ id: 'support', name: 'Support', numbers: ['1000'] }];

describe('configuration checks of trunks and reserved data', () => {
  it('a block of IPv4-mapped addresses is the same source as its IPv4 block (not a more specific one that would win by its longer IPv6 prefix)', () => {
    const inbound = [
      { id: 'a', sources: [{ address: '10.0.0.0/24' }] },
      { id: 'b', sources: [{ address: '::ffff:10.0.0.0/120' }, { address: '::ffff:10.0.1.0/120' }] },
    ];
    expect(problems({ queues, trunks: { inbound } }).filter((p) => p.includes('trunks.inbound'))).toEqual([expect.stringMatching(/trunks\.inbound\[1\]\.sources\[0\]: the same source as trunks\.inbound\[0\]\.sources\[0\]/)]);
    // Without the clash, a mapped block is as specific as its IPv4 form: /120 is /24, less specific than a /25.
    const trunks = trunksOf({ queues, trunks: { inbound: [{ id: 'mapped', sources: [{ address: '::ffff:10.0.0.0/120' }] }, { id: 'narrow', sources: [{ address: '10.0.0.0/25' }] }] } });
    expect(trunks.identify({ address: '10.0.0.5', port: 5060, transport: 'udp' })?.id).toBe('narrow');
    expect(trunks.identify({ address: '::ffff:10.0.0.200', port: 5060, transport: 'udp' })?.id).toBe('mapped');
  });

  it('a complete configuration passes', () => {
    expect(
      problems({
        queues,
        trunks: {
          unknownSources: 'refuse',
          inbound: [{ id: 'carrier', trusted: true, headerMapping: 'flags', sources: [{ address: '192.0.2.0/24', port: 5060, transport: 'udp' }], numbers: ['1000'], limits: { callsPerSecond: 5, burst: 10, concurrentCalls: 50 } }],
          outbound: [{ id: 'gw', host: '192.0.2.50' }],
        },
        reservedData: {
          headerMappings: [{ id: 'flags', headers: [{ name: 'X-Reserved-Data', format: 'parameters' }, { name: 'X-VC', format: 'boolean', property: 'reserved_verified_customer' }, { name: 'User-to-User', format: 'uui', purpose: 'ccai', encoding: 'hex' }] }],
          agentLeg: { flagsHeader: 'X-Reserved-Flags', attestationHeader: 'X-Caller-Attestation', valueHeaders: { reserved_bad_actor: 'X-Bad-Actor' }, passHeaders: ['X-Account'] },
          attestation: { failedQueue: 'support' },
        },
        redirection: { sip: { data_parameters_enabled: true, data_parameters: [{ field: 'X-Verified', type: 'dynamic', source: 'session_metadata', source_field: 'reserved_verified_customer' }, { field: 'X-Campaign', type: 'static', value: 'spring' }] } },
      }),
    ).toEqual([]);
  });

  it('every problem at once: unknown references and properties, bad blocks, shared sources, controlled headers, incomplete parameters', () => {
    const got = problems({
      queues,
      trunks: {
        inbound: [
          { id: 'a', headerMapping: 'nope', sources: [{ address: '192.0.2.1/24' }, { address: '10.0.0.0/8' }] },
          { id: 'b', trusted: true, sources: [{ address: '10.0.0.0/8' }, { address: 'carrier.example' }], limits: { burst: 3 } },
          { id: 'gw', sources: [{ address: '198.51.100.1' }] },
        ],
        outbound: [{ id: 'gw', host: '198.51.100.2' }],
      },
      reservedData: {
        headerMappings: [
          { id: 'm', headers: [{ name: 'X-R', format: 'boolean' }, { name: 'x-r', format: 'parameters', property: 'reserved_bad_actor', parameters: { 'bad name': 'reserved_bad_actor' } }, { name: 'Via', format: 'boolean', property: 'reserved_bad_actor', purpose: 'x' }] },
          { id: 'm', headers: [{ name: 'X-S', format: 'uui' }] },
        ],
        agentLeg: { flagsHeader: 'Contact', attestationHeader: 'X-Flags', valueHeaders: { reserved_nothing: 'X-Flags' }, passHeaders: ['Call-ID'] },
        attestation: { failedQueue: 'fraud' },
      },
      redirection: {
        sip: {
          data_parameters: [
            { field: 'From', type: 'dynamic', source: 'session_metadata', source_field: 'caller_number' },
            { field: 'X-A', type: 'dynamic', source: 'session_metadata', source_field: 'shoe_size' },
            { field: 'x-a', type: 'static' },
            { field: 'X-B', type: 'dynamic', source: 'sip_header', source_field: 'bad header' },
            { field: 'X-C', type: 'dynamic', value: 'v' },
          ],
        },
      },
    });
    const expected = [
      /trunks\.inbound\[0\]\.sources\[0\]\.address: "192\.0\.2\.1\/24" has host bits set/,
      /trunks\.inbound\[0\]\.headerMapping: no header mapping "nope"/,
      /trunks\.inbound\[0\]\.headerMapping: an untrusted trunk's headers are never read/,
      /trunks\.inbound\[1\]\.sources\[0\]: the same source as trunks\.inbound\[0\]\.sources\[1\]/,
      /trunks\.inbound\[1\]\.sources\[1\]\.address: "carrier\.example" is not an IPv4 or IPv6 address/,
      /trunks\.inbound\[1\]\.limits\.burst: burst needs callsPerSecond/,
      /trunks\.inbound\[2\]\.id: trunk id "gw" is already used by trunks\.outbound\[0\]/,
      /reservedData\.headerMappings\[0\]\.headers\[0\]\.property: format boolean needs the property/,
      /reservedData\.headerMappings\[0\]\.headers\[1\]\.name: header x-r is read twice/,
      /reservedData\.headerMappings\[0\]\.headers\[1\]\.property: format parameters names its properties in parameters/,
      /reservedData\.headerMappings\[0\]\.headers\[1\]\.parameters: parameter name "bad name" is not a token/,
      /reservedData\.headerMappings\[0\]\.headers\[2\]\.name: Via is a SIP header with its own meaning/,
      /reservedData\.headerMappings\[0\]\.headers\[2\]\.purpose: purpose applies to format uui only/,
      /reservedData\.headerMappings\[1\]\.id: mapping id "m" is defined twice/,
      /reservedData\.agentLeg\.flagsHeader: Contact is a SIP header the engine controls/,
      /reservedData\.agentLeg\.valueHeaders.*reserved_nothing/,
      /reservedData\.agentLeg\.valueHeaders\.reserved_nothing: X-Flags is already used by reservedData\.agentLeg\.attestationHeader/,
      /reservedData\.agentLeg\.passHeaders\[0\]: Call-ID is a SIP header the engine controls/,
      /reservedData\.attestation\.failedQueue: no queue "fraud"/,
      /redirection\.sip\.data_parameters\[0\]\.field: From is a SIP header the engine controls/,
      /redirection\.sip\.data_parameters\[1\]\.source_field: unknown metadata field "shoe_size"/,
      /redirection\.sip\.data_parameters\[2\]\.field: header x-a is set by another data parameter/,
      /redirection\.sip\.data_parameters\[2\]\.value: type static needs a value/,
      /redirection\.sip\.data_parameters\[3\]\.source_field: "bad header" is not a header name/,
      /redirection\.sip\.data_parameters\[4\]\.value: type dynamic reads source\/source_field/,
      /redirection\.sip\.data_parameters\[4\]\.source: type dynamic needs a source/,
      /redirection\.sip\.data_parameters\[4\]\.source_field: type dynamic needs a source_field/,
    ];
    for (const re of expected) expect(got.some((p) => re.test(p)), `${re}\n${got.join('\n')}`).toBe(true);
    expect(got.length).toBeGreaterThanOrEqual(expected.length);
  });

  it('TLS identity sources: a domain or address on tls or wss, from the embedded server\'s listener that verifies client certificates', () => {
    const listen = (verifyClient: string): unknown => ({
      listen: [{ transport: 'udp', host: '127.0.0.1', port: 5060 }, { transport: 'tls', host: '127.0.0.1', port: 5061, tls: { certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem', verifyClient } }],
    });
    const inbound = [
      { id: 'ok', trusted: true, sources: [{ tlsIdentity: 'SBC.carrier.example' }, { address: '192.0.2.0/24', transport: 'tls', tlsIdentity: '2001:db8::1' }] },
      { id: 'bad', sources: [{}, { tlsIdentity: 'sip:sbc.carrier.example' }, { tlsIdentity: '.carrier.example', transport: 'udp' }, { tlsIdentity: 'sbc.carrier.example' }, { address: '192.0.2.0/24', transport: 'tls', tlsIdentity: '2001:DB8:0:0::1' }, { address: '198.51.100.0/24', transport: 'wss' }] },
    ];
    const trunkProblems = (got: string[]): string[] => got.filter((p) => p.includes('trunks.inbound'));
    const got = trunkProblems(problems({ queues, sipServer: listen('optional'), trunks: { inbound } }));
    const expected = [
      /trunks\.inbound\[1\]\.sources\[0\]: a source needs an address, a tlsIdentity, or both/,
      /trunks\.inbound\[1\]\.sources\[1\]\.tlsIdentity: "sip:sbc\.carrier\.example" is not a domain name or an IP address/,
      /trunks\.inbound\[1\]\.sources\[2\]\.tlsIdentity: "\.carrier\.example" is not a domain name/,
      /trunks\.inbound\[1\]\.sources\[2\]\.transport: a udp connection has no certificate/,
      /trunks\.inbound\[1\]\.sources\[3\]: the same source as trunks\.inbound\[0\]\.sources\[0\]/,
      // The same IPv6 address in another text form is the same identity.
      /trunks\.inbound\[1\]\.sources\[4\]: the same source as trunks\.inbound\[0\]\.sources\[1\]/,
      /trunks\.inbound\[1\]\.sources\[5\]\.transport: .*\(ws as tcp, wss as tls\): write tls/,
    ];
    for (const re of expected) expect(got.some((p) => re.test(p)), `${re}\n${got.join('\n')}`).toBe(true);
    expect(got).toHaveLength(expected.length);
    // No listener that asks for client certificates; a real drachtio-server.
    const ok = [inbound[0]];
    expect(trunkProblems(problems({ queues, sipServer: listen('off'), trunks: { inbound: ok } }))).toEqual([
      expect.stringMatching(/sources\[0\]\.tlsIdentity: no sipServer\.listen entry \(tls or wss\) asks for client certificates/),
      expect.stringMatching(/sources\[1\]\.tlsIdentity: no sipServer\.listen entry/),
    ]);
    expect(trunkProblems(problems({ queues, sipServer: listen('required'), drachtio: { host: '192.0.2.80', port: 9022 }, trunks: { inbound: ok } }))).toEqual([
      expect.stringMatching(/sources\[0\]\.tlsIdentity: needs the engine connected to its embedded SIP server/),
      expect.stringMatching(/sources\[1\]\.tlsIdentity: needs the engine connected to its embedded SIP server/),
    ]);
    expect(trunkProblems(problems({ queues, sipServer: { ...(listen('required') as object), embedded: false }, trunks: { inbound: ok } }))).toEqual([
      expect.stringMatching(/sources\[0\]\.tlsIdentity: needs the engine connected to its embedded SIP server/),
      expect.stringMatching(/sources\[1\]\.tlsIdentity: needs the engine connected to its embedded SIP server/),
    ]);
    expect(trunkProblems(problems({ queues, sipServer: listen('required'), trunks: { inbound: ok } }))).toEqual([]);
    // The identity header is the engine's, never a caller's header to copy on.
    const copied = problems({ queues, redirection: { sip: { data_parameters: [{ field: 'X-Carrier', type: 'dynamic', source: 'sip_header', source_field: 'X-Switchboard-TLS-Identity' }] } } });
    expect(copied).toEqual([expect.stringMatching(/data_parameters\[0\]\.source_field: X-Switchboard-TLS-Identity is the engine's own header/)]);
  });

  it('header names must be tokens, property names known (schema)', () => {
    const got = problems({ reservedData: { headerMappings: [{ id: 'm', headers: [{ name: 'X Bad', format: 'boolean', property: 'reserved_vip' }] }], agentLeg: { flagsHeader: 'X-Flags:' } } });
    expect(got).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/headers\[0\]\.name: .*a SIP header name/),
        expect.stringMatching(/headers\[0\]\.property: expected one of: reserved_verified_customer, reserved_bad_actor, reserved_repeat_customer/),
        expect.stringMatching(/agentLeg\.flagsHeader: .*a SIP header name/),
      ]),
    );
  });
});
