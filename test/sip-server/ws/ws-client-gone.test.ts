/**
 * A WebSocket client that vanishes mid-dialog (a browser tab closed: the
 * connection drops without a BYE). The app's BYE cannot be sent; the server
 * must still tell the app (503, RFC 3261 §8.1.3.1 for a transport error) and
 * only after the request's echo, or drachtio-srf, which learns the
 * transaction from the echo, drops the answer and waits for ever.
 */
import type Srf from 'drachtio-srf';
import { Inviter, UserAgent } from 'sip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApp, disconnectApp, eventually, startServer, type Harness } from '../../support/harness.js';
import { SipJsPhone } from '../../support/sipjs-phone.js';

interface Leg {
  destroy(opts: object, cb: (err: unknown, bye?: { on(event: 'response', fn: (res: { status: number }) => void): void }) => void): void;
}

let h: Harness;
let srf: Srf;
const legs: Leg[] = [];

beforeAll(async () => {
  h = await startServer({ listen: [{ transport: 'ws', host: '127.0.0.1', port: 0 }], timers: { t1Ms: 25, t2Ms: 400, t4Ms: 500, appResponseTimeoutMs: 10_000 } });
  srf = await connectApp(h, (app) => {
    app.invite((req, res) => {
      const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 5000 RTP/AVP 0', 'a=sendonly', ''].join('\r\n');
      void (app as unknown as { createUAS(a: unknown, b: unknown, o: object): Promise<Leg> }).createUAS(req, res, { localSdp: sdp }).then((leg) => legs.push(leg));
    });
  });
});

afterAll(async () => {
  disconnectApp(srf);
  await h?.stop();
});

describe('a WebSocket client gone mid-dialog', () => {
  it("the app's BYE to it gets an answer (503), so the app can finish the dialog", async () => {
    const phone = await SipJsPhone.start({ server: `ws://127.0.0.1:${h.listener('ws').port}`, aor: 'sip:gone@console.invalid' });
    await new Inviter(phone.ua, UserAgent.makeURI('sip:listen@127.0.0.1')!).invite();
    await eventually(() => legs.length === 1 && h.server.status().dialogs === 1, 5000, 'the dialog');
    (phone.ua.transport as unknown as { _ws: { terminate(): void } })._ws.terminate();
    await eventually(() => h.server.status().sipConnections === 0, 5000, 'the connection gone');
    const outcome = await new Promise<unknown>((resolve) => {
      const t = setTimeout(() => resolve('no answer within 10 s'), 10_000);
      legs[0]!.destroy({}, (err) => {
        clearTimeout(t);
        resolve(err ?? 'answered');
      });
    });
    expect(outcome).toBe('answered');
    await eventually(() => h.server.status().dialogs === 0, 5000, 'no dialog left');
  });
});
