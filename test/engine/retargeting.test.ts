/**
 * What the phone-number deflection tells the carrier of the forwarding
 * (src/engine/retargeting.ts): RFC 7044 History-Info with the RFC 4458 cause,
 * RFC 5806 Diversion, or nothing, as the outbound trunk says.
 */
import { describe, expect, it } from 'vitest';
import { retargetingHeaders } from '../../src/engine/retargeting.js';

const dialed = 'sip:+15551230000@sbc.example.com;user=phone';
const target = 'sip:+15550199@gw.example.net:5060;transport=tcp';

describe('retargeting headers', () => {
  it('History-Info: the number dialed as entry 1 with the escaped Reason, the target mapped from it as 1.1 with its cause', () => {
    expect(retargetingHeaders('history-info', dialed, target, 'closed')).toEqual({
      'History-Info':
        '<sip:+15551230000@sbc.example.com;user=phone?Reason=SIP%3Bcause%3D302%3Btext%3D%22Closed%22>;index=1, <sip:+15550199@gw.example.net:5060;transport=tcp;cause=302>;index=1.1;mp=1',
    });
    expect(retargetingHeaders('history-info', dialed, target, 'overflow')['History-Info']).toContain('<sip:+15550199@gw.example.net:5060;transport=tcp;cause=408>;index=1.1;mp=1');
  });

  it('Diversion: the number dialed, with the reason a carrier reads (time-of-day when closed, no-answer at overflow) and counter=1', () => {
    expect(retargetingHeaders('diversion', dialed, target, 'closed')).toEqual({ Diversion: '<sip:+15551230000@sbc.example.com;user=phone>;reason=time-of-day;counter=1' });
    expect(retargetingHeaders('diversion', dialed, target, 'overflow')).toEqual({ Diversion: '<sip:+15551230000@sbc.example.com;user=phone>;reason=no-answer;counter=1' });
  });

  it("a Request-URI's own URI headers are not repeated, and none sends nothing", () => {
    const h = retargetingHeaders('history-info', 'sip:5000@198.51.100.7?X-Foo=bar', target, 'closed')['History-Info']!;
    expect(h.startsWith('<sip:5000@198.51.100.7?Reason=')).toBe(true);
    expect(h).not.toContain('X-Foo');
    expect(retargetingHeaders('diversion', 'sip:5000@198.51.100.7?X-Foo=bar', target, 'closed')).toEqual({ Diversion: '<sip:5000@198.51.100.7>;reason=time-of-day;counter=1' });
    expect(retargetingHeaders('none', dialed, target, 'closed')).toEqual({});
  });
});
