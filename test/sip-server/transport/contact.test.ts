/**
 * The server's Contact and Via per transport (drachtio spec §2.8, RFC 7118
 * §5.2) and when a Contact must be SIPS (RFC 3261 §8.1.1.8, §12.1.1).
 */
import { describe, expect, it } from 'vitest';
import { contactFor, isSips, requestIsSecure, viaFor, withTransport } from '../../../src/sip-server/core/message-builder.js';
import { SipHeaders, type SipRequest } from '../../../src/sip-server/message/sip-message.js';
import type { ListenerInfo, TransportProtocol } from '../../../src/sip-server/transport/types.js';

const on = (transport: TransportProtocol, host = '192.0.2.10'): ListenerInfo => ({ id: 0, transport, host, port: 5061, advertisedHost: host, family: host.includes(':') ? 6 : 4 });

function req(uri: string, headers: Record<string, string[]> = {}): SipRequest {
  const h = new SipHeaders();
  for (const [k, vs] of Object.entries(headers)) for (const v of vs) h.append(k, v);
  return { kind: 'request', method: 'INVITE', uri, headers: h, body: Buffer.alloc(0) };
}

describe('our Contact and Via per transport', () => {
  it('sip: with the transport named, except UDP; SIPS for a secure dialog on TLS and WSS only', () => {
    expect(contactFor(on('udp'))).toBe('<sip:192.0.2.10:5061>');
    expect(contactFor(on('tls'))).toBe('<sip:192.0.2.10:5061;transport=tls>');
    expect(contactFor(on('ws'))).toBe('<sip:192.0.2.10:5061;transport=ws>');
    expect(contactFor(on('tls'), true)).toBe('<sips:192.0.2.10:5061>');
    expect(contactFor(on('wss'), true)).toBe('<sips:192.0.2.10:5061;transport=wss>');
    expect(contactFor(on('tcp'), true), 'SIPS is never claimed without TLS').toBe('<sip:192.0.2.10:5061;transport=tcp>');
    expect(contactFor(on('tls', '2001:db8::1'), true)).toBe('<sips:[2001:db8::1]:5061>');
  });

  it('Via names the transport in capitals (RFC 3261 §20.42, RFC 7118 §5.2)', () => {
    expect(viaFor(on('wss'), 'z9hG4bKx')).toBe('SIP/2.0/WSS 192.0.2.10:5061;branch=z9hG4bKx;rport');
    expect(viaFor(on('tls'), 'z9hG4bKx')).toBe('SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bKx;rport');
  });

  it('a Contact rewritten to our address names the transport, unless it is SIPS on TLS or already says', () => {
    expect(withTransport('<sip:1000@192.0.2.10:5061>', on('ws'))).toBe('<sip:1000@192.0.2.10:5061;transport=ws>');
    expect(withTransport('<sips:1000@192.0.2.10:5061>', on('tls'))).toBe('<sips:1000@192.0.2.10:5061>');
    expect(withTransport('<sip:1000@192.0.2.10:5061;transport=tcp>', on('tls'))).toBe('<sip:1000@192.0.2.10:5061;transport=tcp>');
  });
});

describe('when the dialog is SIPS (RFC 3261 §12.1.1)', () => {
  it('recognises SIPS bare, in a name-addr and with a display name, in any case', () => {
    expect(isSips('sips:a@b')).toBe(true);
    expect(isSips('SIPS:a@b')).toBe(true);
    expect(isSips('"Bob, the <builder>" <sips:bob@b>;tag=1')).toBe(true);
    expect(isSips('<sip:a@b;transport=tls>')).toBe(false);
    expect(isSips(undefined)).toBe(false);
  });

  it('the Request-URI, else the top Record-Route, else (without one) the Contact decides', () => {
    expect(requestIsSecure(req('sips:agent@example.com'))).toBe(true);
    expect(requestIsSecure(req('sip:agent@example.com', { 'record-route': ['<sips:p1.example.com;lr>', '<sip:p2.example.com;lr>'] }))).toBe(true);
    expect(requestIsSecure(req('sip:agent@example.com', { 'record-route': ['<sip:p1.example.com;lr>'], contact: ['<sips:caller@example.org>'] }))).toBe(false);
    expect(requestIsSecure(req('sip:agent@example.com', { contact: ['<sips:caller@example.org>'] }))).toBe(true);
    expect(requestIsSecure(req('sip:agent@example.com', { contact: ['<sip:caller@example.org;transport=tls>'] }))).toBe(false);
  });
});
