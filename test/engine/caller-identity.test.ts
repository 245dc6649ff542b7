/**
 * The caller's identity from the INVITE's header lines (caller-identity.ts):
 * P-Asserted-Identity only from a trusted trunk (RFC 3325 §5, §9.1), tel URIs
 * read as numbers (RFC 3966, RFC 3261 §19.1.6), privacy honoured from anyone.
 */
import { describe, expect, it } from 'vitest';
import { callerIdentityOf, numberOfUri } from '../../src/engine/signaling/caller-identity.js';

const ANONYMOUS = '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=a1';

function lines(headers: Record<string, string | string[]>): (name: string) => readonly string[] {
  return (name) => {
    const v = Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    return v === undefined ? [] : typeof v === 'string' ? [v] : v;
  };
}

const untrusted = (h: Record<string, string | string[]>) => callerIdentityOf(lines(h), false);
const trusted = (h: Record<string, string | string[]>) => callerIdentityOf(lines(h), true);

describe('P-Asserted-Identity counts from trusted trunks only', () => {
  it('from an untrusted or unknown source it is ignored: an anonymous caller stays withheld (probe C F5)', () => {
    expect(untrusted({ From: ANONYMOUS, 'P-Asserted-Identity': '<sip:+15557654321@127.0.0.1>' })).toEqual({ number: undefined, name: undefined, withheld: true });
    // Nor does it replace the number the From gives.
    expect(untrusted({ From: '<sip:+15551230000@carrier.example>;tag=1', 'P-Asserted-Identity': '"Bank" <sip:+15557654321@carrier.example>' })).toEqual({ number: '+15551230000', name: undefined, withheld: false });
  });

  it('from a trusted trunk it wins over From, with its display name', () => {
    expect(trusted({ From: ANONYMOUS, 'P-Asserted-Identity': '"Ann" <sip:+15557654321@carrier.example;user=phone>' })).toEqual({ number: '+15557654321', name: 'Ann', withheld: false });
    expect(trusted({ From: '"Bob" <sip:+15551230000@carrier.example>;tag=1', 'P-Asserted-Identity': '<sip:+15557654321@carrier.example>' })).toEqual({ number: '+15557654321', name: undefined, withheld: false });
  });

  it('the first identity with a usable number, of a list or of several lines (RFC 3325 §9.1: a SIP and a tel URI)', () => {
    expect(trusted({ From: ANONYMOUS, 'P-Asserted-Identity': '<sip:anonymous@anonymous.invalid>, <tel:+15557654321>' }).number).toBe('+15557654321');
    expect(trusted({ From: ANONYMOUS, 'P-Asserted-Identity': ['<tel:+1-555-765-4321>', '<sip:+15550000000@c>'] }).number).toBe('+15557654321');
    expect(trusted({ From: ANONYMOUS, 'P-Asserted-Identity': '"Smith, Ann" <sip:+15557654321@c>' })).toMatchObject({ number: '+15557654321', name: 'Smith, Ann' });
  });

  it('a trusted trunk without a usable asserted identity: the From decides', () => {
    expect(trusted({ From: '<sip:+15551230000@c>;tag=1', 'P-Asserted-Identity': '<mailto:x@y>' }).number).toBe('+15551230000');
    expect(trusted({ From: ANONYMOUS }).withheld).toBe(true);
  });

  it('P-Preferred-Identity and Remote-Party-ID are never read', () => {
    const claims: Record<string, string>[] = [{ 'P-Preferred-Identity': '<sip:+15557654321@c>' }, { 'Remote-Party-ID': '<sip:+15557654321@c>;party=calling;screen=yes' }];
    for (const headers of claims) {
      expect(trusted({ From: ANONYMOUS, ...headers }).withheld).toBe(true);
      expect(untrusted({ From: ANONYMOUS, ...headers }).withheld).toBe(true);
    }
  });

  it('privacy is honoured from any source, the asserted identity included (RFC 3323 §4.2, RFC 3325 §9.3)', () => {
    expect(trusted({ From: ANONYMOUS, 'P-Asserted-Identity': '<sip:+15557654321@c>', Privacy: 'id' }).withheld).toBe(true);
    expect(untrusted({ From: '<sip:+15551230000@c>;tag=1', Privacy: 'header;user' }).withheld).toBe(true);
    expect(untrusted({ From: '<sip:+15551230000@c>;tag=1', Privacy: 'none' }).withheld).toBe(false);
  });
});

describe('tel URIs are numbers (RFC 3966; RFC 3261 §19.1.6)', () => {
  it('a tel From from any source gives its number, visual separators removed, the + kept (probe C F5)', () => {
    expect(untrusted({ From: '<tel:+15551112222>;tag=1' })).toEqual({ number: '+15551112222', name: undefined, withheld: false });
    expect(untrusted({ From: '"Ann" <tel:+1-555-(111).2222;verstat=TN-Validation-Passed>;tag=1' })).toEqual({ number: '+15551112222', name: 'Ann', withheld: false });
    expect(untrusted({ From: 'tel:+15551112222;tag=1' }).number).toBe('+15551112222');
  });

  it('an anonymous From with a tel asserted identity from a trusted trunk', () => {
    expect(trusted({ From: ANONYMOUS, 'P-Asserted-Identity': '<tel:+15557654321>' })).toEqual({ number: '+15557654321', name: undefined, withheld: false });
  });

  it('numbers of URIs', () => {
    expect(numberOfUri('tel:5551234;phone-context=+1')).toBe('5551234');
    expect(numberOfUri('TEL:+44-20-7946-0018')).toBe('+442079460018');
    expect(numberOfUri('tel:*21#;phone-context=example.com')).toBeUndefined();
    expect(numberOfUri('tel:+1555abc')).toBeUndefined();
    expect(numberOfUri('tel:')).toBeUndefined();
    expect(numberOfUri('sip:+1-555-111-2222@c;user=phone')).toBe('+15551112222');
    // Without user=phone a SIP user part is taken as written (it may be a name with dots).
    expect(numberOfUri('sip:ann.smith@c')).toBe('ann.smith');
    expect(numberOfUri('sips:+15551112222;verstat=TN-Validation-Passed@c;user=phone')).toBe('+15551112222');
    expect(numberOfUri('sip:c.example')).toBeUndefined();
    expect(numberOfUri('mailto:a@b')).toBeUndefined();
  });
});

describe('what counts as withheld', () => {
  it('placeholders, no number, unsafe user parts, two From lines', () => {
    for (const from of [ANONYMOUS, '<sip:Restricted@c>;tag=1', '"Bob" <sip:withheld@c>;tag=1', '<sip:BLOCKED@c>;tag=1', '<sip:c.example>;tag=1', '<sip:a"b@c>;tag=1']) expect(untrusted({ From: from }).withheld, from).toBe(true);
    // a named caller without a number is not withheld (its CRM contact is its name: capture.test.ts)
    expect(untrusted({ From: '"Bob Smith" <sip:bob@example.com>;tag=1' })).toEqual({ number: 'bob', name: 'Bob Smith', withheld: false });
    expect(untrusted({ From: ['<sip:+1555@c>;tag=1', '<sip:+1666@c>;tag=2'] }).withheld).toBe(true);
  });

  it('a display name that could end the quoted string or disguise itself is dropped, the number kept', () => {
    expect(untrusted({ From: '"Ann\\" <sip:evil>" <sip:+1555@c>;tag=1' })).toEqual({ number: '+1555', name: undefined, withheld: false });
    expect(untrusted({ From: '"Ann\u202e" <sip:+1555@c>;tag=1' })).toEqual({ number: '+1555', name: undefined, withheld: false });
    expect(untrusted({ From: '"Zoë" <sip:+1555@c>;tag=1' })).toEqual({ number: '+1555', name: 'Zoë', withheld: false });
  });
});
