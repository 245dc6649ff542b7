/**
 * Feature codes: a plain SIP phone works the queue by dialling a code (`*1`
 * ready, `*2` not ready, `*3` log out by default). The INVITE is challenged
 * like a REGISTER (401, digest with the agent's credentials, the same rate
 * limit and the same refusals), so nobody can change an agent's state by
 * sending a From header. The state changes (through the same rules as the
 * API: during a call it waits for the call to end), then the call is
 * answered, the phone hears a short confirmation through rtpengine, and we
 * hang up. Without a media plane (or for an INVITE without an offer) the call
 * is answered with its media refused (port 0, RFC 3264 §6) and hung up at once.
 */
import { randomUUID } from 'node:crypto';
import type { SwitchboardConfig } from '../../config/load.js';
import type { MediaService } from '../../media/index.js';
import type { Logger } from '../../observability/logger.js';
import type { Credentials } from '../registrar/credentials.js';
import type { Registrar } from '../registrar/registrar.js';
import type { InboundInvite, SipLeg } from '../signaling/sip-port.js';
import type { AgentRegistry, RequestedState } from './agent-registry.js';

export interface FeatureCodesDeps {
  readonly config: SwitchboardConfig;
  readonly agents: AgentRegistry;
  readonly registrar: Registrar;
  readonly credentials: Credentials;
  readonly media: MediaService | undefined;
  readonly logger: Logger;
}

const SAID: Record<RequestedState, string> = { 'ready': 'ready', 'not-ready': 'not ready', 'logged-out': 'logged out' };

/** An answer refusing every stream of `offer` (port 0), or an offer of one refused audio stream. */
export function refusedMedia(offer: string | undefined): string {
  const lines = ['v=0', 'o=switchboard 1 1 IN IP4 127.0.0.1', 's=switchboard', 'c=IN IP4 127.0.0.1', 't=0 0'];
  const media = (offer ?? '').split(/\r?\n/).filter((l) => l.startsWith('m='));
  if (media.length === 0) lines.push('m=audio 0 RTP/AVP 0');
  for (const m of media) {
    const [type, , proto, fmt] = m.slice(2).split(/\s+/);
    lines.push(`m=${type ?? 'audio'} 0 ${proto ?? 'RTP/AVP'} ${fmt ?? '0'}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

export class FeatureCodes {
  private readonly codes = new Map<string, RequestedState>();
  handled = 0;

  constructor(private readonly deps: FeatureCodesDeps) {
    const f = deps.config.registrar.featureCodes;
    this.codes.set(f.ready, 'ready');
    this.codes.set(f.notReady, 'not-ready');
    this.codes.set(f.logout, 'logged-out');
  }

  match(dialed: string): RequestedState | undefined {
    return this.codes.get(dialed);
  }

  async handle(invite: InboundInvite, state: RequestedState): Promise<void> {
    const { agents, credentials, registrar, logger } = this.deps;
    const auth = registrar.authenticate({
      method: 'INVITE',
      uri: invite.uri,
      authorization: invite.headerLines('authorization'),
      source: invite.source.address,
      allowed: (u) => agents.has(u) && credentials.has(u),
    });
    if (!auth.ok) {
      invite.reject(auth.status, auth.reason, auth.headers);
      return;
    }
    const reason = state === 'not-ready' ? this.deps.config.registrar.featureCodes.notReadyReason : null;
    const now = agents.request(auth.user, state, reason, auth.user);
    this.handled++;
    logger.info({ agent: auth.user, asked: state, state: now.state, pending: now.pending?.state ?? null }, 'feature code');
    const name = agents.get(auth.user).name;
    const text = now.pending !== null ? `${name}: ${SAID[state]} after this call.` : now.state === 'not-ready' && state === 'ready' ? `${name}: not ready. Your phone is not registered.` : `${name}: ${SAID[state]}.`;
    try {
      await this.confirm(invite, text);
    } catch (e) {
      logger.info({ agent: auth.user, err: (e as Error).message }, 'feature code confirmation not played');
      invite.reject(500, 'Server Internal Error');
    }
  }

  private async confirm(invite: InboundInvite, text: string): Promise<void> {
    const media = this.deps.media;
    if (media === undefined || invite.offer === undefined) {
      const leg = invite.offer !== undefined ? await invite.answer(refusedMedia(invite.offer)) : (await invite.answerWithOffer(refusedMedia(undefined))).leg;
      await leg.hangUp();
      return;
    }
    const callMedia = media.createCallMedia(randomUUID(), { logger: this.deps.logger });
    let leg: SipLeg | undefined;
    try {
      await callMedia.offer('caller', invite.offer);
      const sdp = await callMedia.answerPlaceholder('agent', invite.offer);
      const prompt = await media.prompts.fromSpec({ text });
      leg = await invite.answer(sdp);
      const gone = new AbortController();
      leg.onHangUp(() => gone.abort());
      await callMedia.playToEnd('caller', prompt, { signal: gone.signal }).catch(() => undefined);
    } finally {
      await leg?.hangUp();
      await callMedia.release();
    }
  }
}
