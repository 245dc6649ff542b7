/**
 * The registration flow table (drachtio spec §2.9): Contacts registered over
 * a connection are reached over it until they expire, are unregistered or
 * the connection closes.
 */
import { describe, expect, it } from 'vitest';
import { FlowRegistry, flowKey, isInvalidHost } from '../../../src/sip-server/core/flows.js';
import { SipHeaders } from '../../../src/sip-server/message/sip-message.js';
import { parseSipUri } from '../../../src/sip-server/message/uri.js';
import type { Flow, ListenerInfo } from '../../../src/sip-server/transport/types.js';

const listener: ListenerInfo = { id: 0, transport: 'ws', host: '127.0.0.1', port: 5066, advertisedHost: '127.0.0.1', family: 4 };
const flow = (connectionId: number, transport: Flow['transport'] = 'ws'): Flow => ({ transport, address: '127.0.0.1', port: 40000 + connectionId, listener, connectionId });
const uri = (text: string) => parseSipUri(text)!;

function headers(fields: Record<string, string[]>): SipHeaders {
  const h = new SipHeaders();
  for (const [name, values] of Object.entries(fields)) for (const v of values) h.append(name, v);
  return h;
}

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('flows of registered clients', () => {
  it('a Contact registered over a connection is reached over it, whatever the URI parameters', () => {
    const reg = new FlowRegistry();
    reg.record(headers({ contact: ['<sip:k3v9@df7jal23ls0d.invalid;transport=ws>;expires=600'] }), headers({}), flow(7));
    expect(reg.lookup(uri('sip:k3v9@df7jal23ls0d.invalid;transport=ws'))).toEqual({ transport: 'ws', address: '127.0.0.1', port: 40007, connectionId: 7 });
    expect(reg.lookup(uri('sip:k3v9@DF7JAL23LS0D.invalid'))?.connectionId).toBe(7);
    expect(reg.lookup(uri('sip:other@df7jal23ls0d.invalid'))).toBeUndefined();
  });

  it('the port is part of the key: another port is another client', () => {
    const reg = new FlowRegistry();
    reg.record(headers({ contact: ['<sip:1001@10.0.0.5:5062;transport=tcp>'] }), headers({}), flow(3, 'tcp'));
    expect(reg.lookup(uri('sip:1001@10.0.0.5:5062'))?.connectionId).toBe(3);
    expect(reg.lookup(uri('sip:1001@10.0.0.5'))).toBeUndefined();
    expect(flowKey(uri('sip:1001@10.0.0.5:5062;transport=tcp'))).toBe('1001@10.0.0.5:5062');
  });

  it('expiry: the Contact parameter, else the registrar’s granted value, else the Expires header, else an hour', () => {
    const c = clock();
    const reg = new FlowRegistry(c.now);
    reg.record(headers({ contact: ['<sip:a@x.invalid>;expires=30', '<sip:b@x.invalid>', '<sip:c@x.invalid>'], expires: ['120'] }), headers({ contact: ['<sip:b@x.invalid>;expires=60'] }), flow(1));
    c.advance(30_000);
    expect(reg.lookup(uri('sip:a@x.invalid'))).toBeUndefined();
    expect(reg.lookup(uri('sip:b@x.invalid'))).toBeDefined();
    c.advance(30_000);
    expect(reg.lookup(uri('sip:b@x.invalid'))).toBeUndefined();
    expect(reg.lookup(uri('sip:c@x.invalid'))).toBeDefined();
    c.advance(60_000);
    expect(reg.lookup(uri('sip:c@x.invalid'))).toBeUndefined();
    expect(reg.size).toBe(0);
    reg.record(headers({ contact: ['<sip:d@x.invalid>'] }), headers({}), flow(1));
    c.advance(3_599_000);
    expect(reg.lookup(uri('sip:d@x.invalid'))).toBeDefined();
    c.advance(1_000);
    expect(reg.lookup(uri('sip:d@x.invalid'))).toBeUndefined();
  });

  it('a REGISTER that came through a proxy (a second Via, or a Path) is not a flow: the proxy’s connection is not the client’s, and a flow the client had is forgotten', () => {
    const reg = new FlowRegistry();
    reg.record(headers({ via: ['SIP/2.0/TCP 10.0.0.5:5062;branch=z9hG4bK1'], contact: ['<sip:a@10.0.0.5:5062;transport=tcp>'] }), headers({}), flow(1, 'tcp'));
    expect(reg.lookup(uri('sip:a@10.0.0.5:5062'))?.connectionId).toBe(1);
    reg.record(headers({ via: ['SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK2', 'SIP/2.0/TCP 10.0.0.5:5062;branch=z9hG4bK3'], contact: ['<sip:a@10.0.0.5:5062;transport=tcp>'] }), headers({}), flow(2, 'tcp'));
    expect(reg.lookup(uri('sip:a@10.0.0.5:5062'))).toBeUndefined();
    reg.record(headers({ via: ['SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK4'], path: ['<sip:192.0.2.1;lr>'], contact: ['<sip:b@10.0.0.6:5062;transport=tcp>'] }), headers({}), flow(2, 'tcp'));
    expect(reg.lookup(uri('sip:b@10.0.0.6:5062'))).toBeUndefined();
    expect(reg.size).toBe(0);
  });

  it('expires=0 unregisters; Contact: * forgets the connection’s clients', () => {
    const reg = new FlowRegistry();
    reg.record(headers({ contact: ['<sip:a@x.invalid>', '<sip:b@x.invalid>'] }), headers({}), flow(1));
    reg.record(headers({ contact: ['<sip:a@x.invalid>'], expires: ['0'] }), headers({}), flow(1));
    expect(reg.lookup(uri('sip:a@x.invalid'))).toBeUndefined();
    expect(reg.size).toBe(1);
    reg.record(headers({ contact: ['*'], expires: ['0'] }), headers({}), flow(1));
    expect(reg.size).toBe(0);
  });

  it('a client re-registering over a new connection moves; the old connection closing then changes nothing', () => {
    const reg = new FlowRegistry();
    reg.record(headers({ contact: ['<sip:a@x.invalid>'] }), headers({}), flow(1));
    reg.record(headers({ contact: ['<sip:a@x.invalid>'] }), headers({}), flow(2));
    reg.forgetConnection(1);
    expect(reg.lookup(uri('sip:a@x.invalid'))?.connectionId).toBe(2);
    reg.forgetConnection(2);
    expect(reg.lookup(uri('sip:a@x.invalid'))).toBeUndefined();
    expect(reg.size).toBe(0);
  });

  it('a client refreshing its registration over the same connection is still forgotten when that connection closes', () => {
    const reg = new FlowRegistry();
    reg.record(headers({ contact: ['<sip:a@x.invalid>;expires=600'] }), headers({}), flow(7));
    reg.record(headers({ contact: ['<sip:a@x.invalid>;expires=600'] }), headers({}), flow(7));
    reg.forgetConnection(7);
    expect(reg.lookup(uri('sip:a@x.invalid'))).toBeUndefined();
    expect(reg.size).toBe(0);
  });

  it('refreshes do not get round the 32 Contacts of one connection', () => {
    const reg = new FlowRegistry();
    for (let i = 0; i < 40; i++) {
      const contact = { contact: [`<sip:u${i}@x.invalid>`] };
      reg.record(headers(contact), headers({}), flow(5));
      reg.record(headers(contact), headers({}), flow(5));
    }
    expect(reg.size).toBe(32);
  });

  it('UDP registrations make no flow, and one connection holds at most 32 Contacts', () => {
    const reg = new FlowRegistry();
    reg.record(headers({ contact: ['<sip:a@192.0.2.1>'] }), headers({}), flow(1, 'udp'));
    expect(reg.size).toBe(0);
    const many = Array.from({ length: 40 }, (_, i) => `<sip:u${i}@x.invalid>`);
    reg.record(headers({ contact: many }), headers({}), flow(5));
    expect(reg.size).toBe(32);
  });

  it('.invalid names (RFC 6761 §6.4)', () => {
    expect(isInvalidHost('df7jal23ls0d.invalid')).toBe(true);
    expect(isInvalidHost('invalid')).toBe(true);
    expect(isInvalidHost('invalid.example.com')).toBe(false);
  });
});
