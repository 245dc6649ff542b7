/**
 * The OPTIONS keep-alive stopping in the middle of a round (the engine
 * stopping): no further OPTIONS go out, and a ping the shutdown cut off is no
 * miss, so no phone is unregistered for it (the binding store would keep that
 * removal across the restart). With stand-ins for the registrar and the SIP
 * side whose pings the test answers.
 */
import { describe, expect, it } from 'vitest';
import { KeepAlive } from '../../src/engine/registrar/keep-alive.js';
import type { Registrar } from '../../src/engine/registrar/registrar.js';
import type { SipPort } from '../../src/engine/signaling/sip-port.js';

function rig(contacts: string[]) {
  const pinged: string[] = [];
  const pending: ((status: number | undefined) => void)[] = [];
  const removed: string[] = [];
  const registrar = {
    table: { all: () => contacts.map((contact) => ({ aor: 'sip:ann@example.com', contact })) },
    unreachable: (_aor: string, contact: string) => removed.push(contact),
  };
  const sip = {
    ping: (target: string) =>
      new Promise<number | undefined>((resolve) => {
        pinged.push(target);
        pending.push(resolve);
      }),
  };
  const keepAlive = new KeepAlive(registrar as unknown as Registrar, sip as unknown as SipPort, { intervalSeconds: 30, timeoutSeconds: 8, failures: 1, concurrency: 1 });
  return { keepAlive, pinged, pending, removed };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the keep-alive', () => {
  it('a phone that does not answer within a round is removed (the control case)', async () => {
    const { keepAlive, pending, removed } = rig(['sip:ann@127.0.0.1:5070']);
    const round = keepAlive.round();
    await turn();
    pending[0]!(undefined);
    await round;
    expect(removed).toEqual(['sip:ann@127.0.0.1:5070']);
  });

  it('stopped mid-round: the ping cut off removes nobody, and the next contact is not pinged', async () => {
    const { keepAlive, pinged, pending, removed } = rig(['sip:ann@127.0.0.1:5070', 'sip:ann@127.0.0.1:5072']);
    const round = keepAlive.round();
    await turn();
    expect(pinged).toEqual(['sip:ann@127.0.0.1:5070']);
    keepAlive.stop();
    pending[0]!(undefined);
    await round;
    expect(removed).toEqual([]);
    expect(pinged).toEqual(['sip:ann@127.0.0.1:5070']);
    await keepAlive.round();
    expect(pinged).toHaveLength(1);
  });
});
