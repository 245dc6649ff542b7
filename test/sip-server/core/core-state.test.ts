/** The dialog tables of the SIP server's core (core-state.ts). */
import { describe, expect, it } from 'vitest';
import { CoreState, newDialog, type Dialog } from '../../../src/sip-server/core/core-state.js';
import type { ListenerInfo } from '../../../src/sip-server/transport/types.js';

const listener: ListenerInfo = { id: 0, transport: 'udp', host: '127.0.0.1', port: 5060, advertisedHost: '127.0.0.1', family: 4 };

function dialog(callId: string, remoteTag: string): Dialog {
  return newDialog({
    id: `${callId};from-tag=ours;to-tag=${remoteTag}`,
    role: 'uac',
    callId,
    localTag: 'ours',
    remoteTag,
    localHeader: '<sip:a@127.0.0.1>;tag=ours',
    remoteHeader: `<sip:b@127.0.0.1>;tag=${remoteTag}`,
    localCSeq: 1,
    remoteCSeq: -1,
    remoteTarget: 'sip:b@127.0.0.1',
    routeSet: [],
    listener,
    dest: undefined,
    owner: undefined,
    state: 'confirmed',
    inviteTxnId: undefined,
  });
}

describe('dialogs by Call-ID', () => {
  it('a second dialog of the same Call-ID (a stray fork, hung up at once) does not take the call’s place, nor remove it when it goes', () => {
    const state = new CoreState();
    const call = dialog('c1', 'answered');
    const fork = dialog('c1', 'stray-fork');
    state.addDialog(call);
    state.addDialog(fork);
    expect(state.dialogsByCallId.get('c1')).toBe(call);
    state.removeDialog(fork);
    expect(state.dialogsByCallId.get('c1')).toBe(call);
    expect(state.findDialogByTags('c1', 'ours', 'answered')).toBe(call);
    state.removeDialog(call);
    expect(state.dialogsByCallId.has('c1')).toBe(false);
    expect(state.dialogs.size).toBe(0);
  });
});
