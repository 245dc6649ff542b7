import { startTestRtpengine } from '../test/support/rtp/rtpengine-harness.js';
import { RtpEndpoint } from '../test/support/rtp/rtp-endpoint.js';
import { CallMedia } from '../src/media/call-media.js';
import { mappedPromptPath } from '../src/media/rtpengine/rtpengine-pool.js';
import { silentLogger } from '../src/observability/logger.js';
import { mediaLines } from '../test/support/rtp/test-sdp.js';
const rt = await startTestRtpengine();
const logger = silentLogger();
const instance = { id: 'x', client: rt.rtpengine.client, promptDelivery: 'file' as const, promptPath: mappedPromptPath('/tmp', undefined), healthy: true };
let n = 0;
async function trial(name: string, second: (agent: RtpEndpoint) => string, flags?: string[]) {
  const call = new CallMedia({ callId: 'exp-' + (n++), instance, monitor: { bindAddress: '127.0.0.1', jitterMs: 60 }, logger });
  const caller = await RtpEndpoint.open(); const agent = await RtpEndpoint.open();
  await call.offer('caller', caller.sdp({ sessionId: 5 }), { flags });
  const ph = ['v=0','o=- 1 1 IN IP4 127.0.0.1','s=-','c=IN IP4 127.0.0.1','t=0 0','m=audio 9 RTP/AVP 0','a=rtpmap:0 PCMU/8000','a=sendrecv',''].join('\r\n');
  const a1 = await call.answer('agent', ph, { flags });
  const a2 = await call.answer('agent', second(agent), { flags });
  console.log(name, mediaLines(a1)[0]!.port, mediaLines(a2)[0]!.port);
  await call.release(); caller.close(); agent.close();
}
await trial('same-ph', () => ['v=0','o=- 1 1 IN IP4 127.0.0.1','s=-','c=IN IP4 127.0.0.1','t=0 0','m=audio 9 RTP/AVP 0','a=rtpmap:0 PCMU/8000','a=sendrecv',''].join('\r\n'));
await trial('agent', (a) => a.sdp({ sessionId: 1, codecs: ['pcmu'] }));
await trial('agent-sameport9', () => ['v=0','o=- 1 2 IN IP4 127.0.0.1','s=-','c=IN IP4 127.0.0.1','t=0 0','m=audio 9 RTP/AVP 0','a=rtpmap:0 PCMU/8000','a=sendrecv',''].join('\r\n'));
await trial('agent-port-change', () => ['v=0','o=- 1 1 IN IP4 127.0.0.1','s=-','c=IN IP4 127.0.0.1','t=0 0','m=audio 11 RTP/AVP 0','a=rtpmap:0 PCMU/8000','a=sendrecv',''].join('\r\n'));
await trial('agent-port-change-reuse', () => ['v=0','o=- 1 1 IN IP4 127.0.0.1','s=-','c=IN IP4 127.0.0.1','t=0 0','m=audio 11 RTP/AVP 0','a=rtpmap:0 PCMU/8000','a=sendrecv',''].join('\r\n'), ['port-latching']);
await rt.stop();
