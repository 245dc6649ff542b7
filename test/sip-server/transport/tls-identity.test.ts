/**
 * SIP domain identities of a certificate and matching them (RFC 5922 §7.1,
 * §7.2), on certificates made by openssl and read back by Node.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sipIdentities, sipNameMismatch } from '../../../src/sip-server/transport/tls-identity.js';
import { TestPki } from '../../support/tls-certs.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await TestPki.create();
});
afterAll(() => pki.cleanup());

/** What Node's TLS socket reports of a certificate, for the fields RFC 5922 reads. */
async function peerCert(name: string, cn: string, san?: string[]): Promise<PeerCertificate> {
  const files = await pki.issue(name, { cn, ...(san !== undefined ? { san } : {}) });
  const x = new X509Certificate(readFileSync(files.cert));
  const subject = Object.fromEntries(x.subject.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { subject, subjectaltname: x.subjectAltName } as unknown as PeerCertificate;
}

describe('identities in a certificate (RFC 5922 §7.1)', () => {
  it('sip: URIs in subjectAltName are the identities; DNS names are then ignored', async () => {
    const c = await peerCert('uris', 'ignored.example', ['URI:sip:Example.COM', 'URI:sip:alt.example;transport=tls', 'DNS:other.example']);
    expect(sipIdentities(c)).toEqual(['example.com', 'alt.example']);
  });

  it('a URI with a user part, or of another scheme, is no identity', async () => {
    const c = await peerCert('user', 'cn.example', ['URI:sip:alice@example.com', 'URI:sips:secure.example', 'URI:https://web.example', 'DNS:dns.example']);
    expect(sipIdentities(c)).toEqual(['dns.example']);
  });

  it('without sip: URIs, DNS names are the identities', async () => {
    expect(sipIdentities(await peerCert('dns', 'cn.example', ['DNS:a.example', 'DNS:B.example']))).toEqual(['a.example', 'b.example']);
  });

  it('the CN counts only when there is no subjectAltName at all', async () => {
    expect(sipIdentities(await peerCert('cnonly', 'Only.Example'))).toEqual(['only.example']);
    expect(sipIdentities(await peerCert('ipsan', 'cn.example', ['IP:192.0.2.1']))).toEqual([]);
  });
});

describe('does a certificate speak for a domain (RFC 5922 §7.2)', () => {
  it('the whole name, case-insensitively, matches', async () => {
    const c = await peerCert('m1', 'x', ['URI:sip:sip.example.com']);
    expect(sipNameMismatch('SIP.Example.com', c)).toBeUndefined();
    expect(sipNameMismatch('sip.example.com.', c)).toBeUndefined();
  });

  it('no suffix, no prefix, no wildcard', async () => {
    const wild = await peerCert('m2', 'x', ['DNS:*.example.com']);
    expect(sipNameMismatch('a.example.com', wild)).toBe('certificate does not name a.example.com (it names *.example.com)');
    const exact = await peerCert('m3', 'x', ['DNS:example.com']);
    expect(sipNameMismatch('sip.example.com', exact)).toBe('certificate does not name sip.example.com (it names example.com)');
    expect(sipNameMismatch('ample.com', exact)).toBeDefined();
  });

  it('an IP address target matches an iPAddress entry, IPv6 written either way', async () => {
    const c = await peerCert('m4', 'x', ['IP:127.0.0.1', 'IP:::1']);
    expect(sipNameMismatch('127.0.0.1', c)).toBeUndefined();
    expect(sipNameMismatch('[::1]', c)).toBeUndefined();
    expect(sipNameMismatch('0:0:0:0:0:0:0:1', c)).toBeUndefined();
    expect(sipNameMismatch('127.0.0.2', c)).toBe('certificate does not name 127.0.0.2 (it names no SIP identity)');
  });
});
