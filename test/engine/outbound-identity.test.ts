/**
 * Who a carrier gateway is told is calling (src/engine/outbound-identity.ts): the From identity,
 * Privacy, and a P-Asserted-Identity passed on only from a trusted inbound trunk to a trusted
 * outbound one, only when well-formed (RFC 3323, RFC 3325). The wire is checked in
 * live-gateway-signaling.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { checkedAssertion, outboundIdentity } from '../../src/engine/outbound-identity.js';

const number = { number: '+15551230000', name: 'Ann', withheld: false };
const withheld = { number: undefined, name: undefined, withheld: true };
const trusted = { callerId: undefined, trustedIdentity: true };
const PAI = ['<sip:+15557654321@carrier.example;user=phone>'];

describe('the identity sent to a gateway', () => {
  it('a caller with a number: From is the caller, nothing else; the trunk\'s callerId replaces it', () => {
    expect(outboundIdentity(number, trusted, { trusted: true, assertedIdentity: [] })).toEqual({ caller: number, headers: {}, assertionDropped: undefined });
    expect(outboundIdentity(number, { callerId: '+15550100', trustedIdentity: false }, { trusted: false, assertedIdentity: [] }).caller).toEqual({ number: '+15550100', name: undefined, withheld: false });
  });

  it('a withheld caller: anonymous (the SIP port writes the anonymous From) with Privacy: id; a trunk callerId is no identity of the caller', () => {
    expect(outboundIdentity(withheld, trusted, { trusted: false, assertedIdentity: [] })).toEqual({ caller: withheld, headers: { Privacy: 'id' }, assertionDropped: undefined });
    expect(outboundIdentity(withheld, { callerId: '+15550100', trustedIdentity: false }, { trusted: false, assertedIdentity: [] }).headers).toEqual({});
  });

  it('P-Asserted-Identity: from a trusted trunk to a trusted gateway only, with Privacy: id kept for a withheld caller', () => {
    expect(outboundIdentity(withheld, trusted, { trusted: true, assertedIdentity: PAI }).headers).toEqual({ 'Privacy': 'id', 'P-Asserted-Identity': PAI[0] });
    expect(outboundIdentity(withheld, { callerId: '+15550100', trustedIdentity: true }, { trusted: true, assertedIdentity: PAI }).headers).toEqual({ 'Privacy': 'id', 'P-Asserted-Identity': PAI[0] });
    expect(outboundIdentity(number, trusted, { trusted: true, assertedIdentity: PAI }).headers).toEqual({ 'P-Asserted-Identity': PAI[0] });
    const untrustedIn = outboundIdentity(number, trusted, { trusted: false, assertedIdentity: PAI });
    expect(untrustedIn.headers).toEqual({});
    expect(untrustedIn.assertionDropped).toBe('the inbound trunk is not trusted');
    // trustedIdentity false (the default): no assertion leaves, whatever came in.
    const untrustedOut = outboundIdentity(withheld, { callerId: undefined, trustedIdentity: false }, { trusted: true, assertedIdentity: PAI });
    expect(untrustedOut.headers).toEqual({ Privacy: 'id' });
    expect(untrustedOut.assertionDropped).toMatch(/trustedIdentity/);
  });

  it('only a well-formed assertion is passed on: one or two values (a sip and a tel URI), printable ASCII, at most 256 bytes', () => {
    expect(checkedAssertion(['"Ann" <sip:+15557654321@carrier.example>', '<tel:+15557654321>'])).toEqual({ value: '"Ann" <sip:+15557654321@carrier.example>, <tel:+15557654321>' });
    expect(checkedAssertion(['Ann Smith <sips:ann@carrier.example>, tel:+15557654321'])).toEqual({ value: 'Ann Smith <sips:ann@carrier.example>, tel:+15557654321' });
    for (const bad of [
      ['<sip:a@x>, <sip:b@x>'],
      ['<tel:+1>', '<tel:+2>'],
      ['<sip:a@x>, <tel:+1>, <sip:b@x>'],
      ['<mailto:a@x>'],
      ['"Ann <sip:a@x>'],
      ['"An\\"n" <sip:a@x>'],
      ['<sip:a@x> trailing'],
      ['<sip:zoë@x>'],
      [`<sip:${'1'.repeat(260)}@x>`],
      [''],
    ]) {
      expect(checkedAssertion(bad), JSON.stringify(bad)).toHaveProperty('refused');
    }
  });
});
