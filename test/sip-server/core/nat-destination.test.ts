/** The NAT rule for dialogs on its own: which peers are reached at the message's source, which at their Contact; and the wildcard UDP listener's warning. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { natDestination, requestPath, RESPONSE_PATH } from '../../../src/sip-server/core/nat-destination.js';
import { warnWildcardUdp } from '../../../src/sip-server/embedded.js';
import { parseVia } from '../../../src/sip-server/message/via.js';
import type { Flow } from '../../../src/sip-server/transport/types.js';

const listener = { id: 1, transport: 'udp', host: '0.0.0.0', port: 5060, advertisedHost: '198.51.100.1', family: 4 } as const;
const udp = (address: string, port: number): Flow => ({ transport: 'udp', address, port, listener });
const via = (text: string) => parseVia(text)!;

describe('natDestination', () => {
  const from = udp('203.0.113.9', 40312);

  it('a phone behind NAT that reached us straight (one Via, private sent-by, rport) is reached at the source', () => {
    const path = requestPath(via('SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;rport'), 1, from);
    expect(natDestination(from, false, 'sip:alice@192.168.1.20:5060', path)).toEqual({ transport: 'udp', address: '203.0.113.9', port: 40312, listenerId: 1 });
  });

  it('a request a proxy relayed (two Vias) is followed by its Contact, whatever its Vias say', () => {
    const path = requestPath(via('SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK2;rport'), 2, from);
    expect(natDestination(from, false, 'sip:caller@198.51.100.7:5060', path)).toBeUndefined();
    // over TCP too: not the proxy's connection
    const tcp: Flow = { ...from, transport: 'tcp', connectionId: 4 };
    expect(natDestination(tcp, false, 'sip:caller@198.51.100.7:5060;transport=tcp', requestPath(via('SIP/2.0/TCP 203.0.113.9;branch=z9hG4bK3'), 2, tcp))).toBeUndefined();
    // through a proxy that record-routed: its connection
    expect(natDestination(tcp, true, 'sip:caller@198.51.100.7:5060;transport=tcp', requestPath(via('SIP/2.0/TCP 203.0.113.9;branch=z9hG4bK3'), 2, tcp))).toEqual({ transport: 'tcp', address: '203.0.113.9', port: 40312, connectionId: 4, listenerId: 1 });
    // one Via over TCP: the same connection (spec §2.9)
    expect(natDestination(tcp, false, 'sip:caller@192.168.1.20;transport=tcp', requestPath(via('SIP/2.0/TCP 192.168.1.20;branch=z9hG4bK4'), 1, tcp))).toEqual({ transport: 'tcp', address: '203.0.113.9', port: 40312, connectionId: 4, listenerId: 1 });
  });

  it('a UA that only sends from another port (its own address in Via, no rport) is reached at its Contact', () => {
    const path = requestPath(via('SIP/2.0/UDP 203.0.113.9:5062;branch=z9hG4bK5'), 1, from);
    expect(natDestination(from, false, 'sip:c@203.0.113.9:5062', path)).toBeUndefined();
  });

  it('a Record-Route, a Contact at the source, or a Contact asking for another transport: no second-guessing', () => {
    const path = requestPath(via('SIP/2.0/UDP 192.168.1.20;branch=z9hG4bK6;rport'), 1, from);
    expect(natDestination(from, true, 'sip:alice@192.168.1.20', path)).toBeUndefined();
    expect(natDestination(from, false, 'sip:alice@203.0.113.9:40312', path)).toBeUndefined();
    expect(natDestination(from, false, 'sip:alice@192.168.1.20;transport=tcp', path)).toBeUndefined();
  });

  it('the answer to our request: reached at the source only when its Contact is an address of its own network and it came from another', () => {
    // an agent phone behind NAT dialed at its public address: its Contact is private
    expect(natDestination(from, false, 'sip:agent@10.1.2.3:5060', RESPONSE_PATH)).toEqual({ transport: 'udp', address: '203.0.113.9', port: 40312, listenerId: 1 });
    // a proxy that does not record-route answered for the phone: the phone's Contact is reachable
    expect(natDestination(from, false, 'sip:agent@198.51.100.7:5062', RESPONSE_PATH)).toBeUndefined();
    // the engine and the phones on one private network: the Contact is reachable as it is
    const lan = udp('10.0.0.8', 5060);
    expect(natDestination(lan, false, 'sip:agent@10.0.0.9:5062', RESPONSE_PATH)).toBeUndefined();
    expect(natDestination(lan, false, 'sip:agent@[fd00::9]:5062', RESPONSE_PATH)).toBeUndefined();
  });
});

describe('a UDP listener on a wildcard address', () => {
  it('is warned about at start (replies leave from the kernel’s choice of address); one on an address is not', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
    const listener = (transport: 'udp' | 'tcp', host: string) => ({ transport, host, port: 5060 }) as unknown as Parameters<typeof warnWildcardUdp>[0][number];
    warnWildcardUdp([listener('udp', '127.0.0.1'), listener('tcp', '0.0.0.0'), listener('udp', '0.0.0.0'), listener('udp', '::')], logger);
    const warned = lines.map((l) => JSON.parse(l) as { level: number; listener: string; msg: string });
    expect(warned.map((w) => [w.level, w.listener])).toEqual([
      [40, 'udp/0.0.0.0:5060'],
      [40, 'udp/:::5060'],
    ]);
    expect(warned[0]!.msg).toContain('one listener per address');
  });
});
