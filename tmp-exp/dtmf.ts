import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import { NgClient } from '../src/media/ng/ng-client.js';
import { RtpEndpoint } from '../test/support/rtp/rtp-endpoint.js';
import { encodeRtp } from '../test/support/rtp/rtp-packet.js';
import { mediaLines } from '../test/support/rtp/test-sdp.js';
import { silentLogger } from '../src/observability/logger.js';
const dt = createSocket('udp4'); dt.bind(42500, '127.0.0.1'); dt.on('message', (m) => console.log('DTMF LOG', m.toString()));
const http = createServer((req, res) => { let b=''; req.on('data', (c) => b+=c); req.on('end', () => { console.log('XMLRPC', req.url, b.replace(/\s+/g,' ')); res.writeHead(200, {'content-type':'text/xml'}); res.end('<?xml version="1.0"?><methodResponse><params><param><value><string>ok</string></value></param></params></methodResponse>'); }); }).listen(42501, '127.0.0.1');
const ng = new NgClient({ host: '127.0.0.1', port: 42222, timeoutMs: 2000, retransmitMs: 500, logger: silentLogger() });
const caller = await RtpEndpoint.open(); const agent = await RtpEndpoint.open();
const o = await ng.request('offer', { 'call-id': 'd1', 'from-tag': 'caller', label: 'caller', sdp: caller.sdp({ telephoneEvent: true }), replace: ['origin','session-connection'], ICE: 'remove' });
const a = await ng.request('answer', { 'call-id': 'd1', 'from-tag': 'caller', 'to-tag': 'agent', label: 'agent', sdp: agent.sdp({ telephoneEvent: true }), replace: ['origin','session-connection'], ICE: 'remove' });
caller.setRemoteFromSdp(a.sdp); agent.setRemoteFromSdp(o.sdp);
// send RFC 4733 digit 5 from the caller
let seq = 100, ts = 1000;
for (let i = 0; i < 8; i++) {
  const end = i >= 5;
  const payload = Buffer.from([5, (end ? 0x80 : 0) | 10, 0, (i + 1) * 160 >> 8 & 0xff]); payload.writeUInt16BE((i+1)*160, 2);
  caller.sendRaw(encodeRtp({ payloadType: 101, sequenceNumber: seq++, timestamp: ts, ssrc: 1234, marker: i === 0, payload }));
  await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, 500));
console.log('agent received', agent.received.length, agent.received.map(p=>p.payloadType).join(','));
console.log('waiting for timeout...');
await new Promise((r) => setTimeout(r, 8000));
const l = await ng.request('list', { limit: 100 } as never);
console.log('list', JSON.stringify(l));
caller.close(); agent.close(); ng.close(); dt.close(); http.close();
