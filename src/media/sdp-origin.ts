/**
 * One SDP session toward one party (RFC 3264 §5, §8; RFC 4566 §5.2).
 *
 * The SDP a party gets from us all through a call must describe one session:
 * the same origin (`o=` username, session id, network type, address type and
 * address, which together name the session) in every description, and a
 * version that goes up by exactly one each time the description changes (and
 * stays the same when it does not). rtpengine writes whatever origin its
 * input had (the placeholder's, then the agent's, then another agent's after a
 * hunt), so a caller would see a new session at every step: strict UAs and
 * SBCs then refuse the SDP or ignore it. The keeper rewrites each description
 * bound for the party onto the first one's origin and session name (`s=`).
 * With `own`, the session is ours from the first description on: its origin
 * username and session name are `own`'s, and its session id a new one, so
 * that the origin names this call's session alone (RFC 8866 §5.2: globally
 * unique), whether the first description is our own template (written with a
 * fixed id) or someone else's (an agent phone's offer, passed on by rtpengine
 * for a delayed-offer caller: nothing of its SDP identity, whose username
 * often names the phone's maker, reaches the party).
 */

const ORIGIN = /^o=(\S+) (\S+) (\d+) (\S+ \S+ \S+)[ \t]*$/;

interface Origin {
  readonly username: string;
  readonly sessionId: string;
  readonly address: string;
  /** The session name line (`s=`), kept too: rtpengine passes each input's own. */
  readonly name: string | undefined;
  version: bigint;
}

/** The description without its origin and session name, to tell whether anything else changed. */
function bodyOf(lines: readonly string[]): string {
  return lines.filter((l) => !l.startsWith('o=') && !l.startsWith('s=')).join('\n');
}

export class SdpOriginKeeper {
  private origin: Origin | undefined;
  private lastBody: string | undefined;

  constructor(private readonly own?: { readonly username: string; readonly name: string; readonly newSessionId: () => string }) {}

  /**
   * `sdp` rewritten onto the session's origin and name: the first description
   * sets them; a later one keeps the version when only its origin or name
   * differs from the last one's, else gets the last version plus one. A description
   * without a readable origin line is passed on unchanged.
   */
  stamp(sdp: string): string {
    const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
    const lines = sdp.split(/\r?\n/);
    const index = lines.findIndex((l) => l.startsWith('o='));
    const m = index === -1 ? null : ORIGIN.exec(lines[index]!);
    if (m === null) return sdp;
    const body = bodyOf(lines);
    const nameIndex = lines.findIndex((l) => l.startsWith('s='));
    const origin = this.origin;
    if (origin === undefined) {
      const own = this.own;
      this.lastBody = body;
      if (own === undefined) {
        this.origin = { username: m[1]!, sessionId: m[2]!, version: BigInt(m[3]!), address: m[4]!, name: lines[nameIndex] };
        return sdp;
      }
      const ours = m[1] === own.username;
      this.origin = { username: own.username, sessionId: own.newSessionId(), version: ours ? BigInt(m[3]!) : 1n, address: m[4]!, name: `s=${own.name}` };
    } else if (body !== this.lastBody) {
      origin.version += 1n;
      this.lastBody = body;
    }
    return this.rewrite(lines, index, nameIndex, eol);
  }

  private rewrite(lines: string[], index: number, nameIndex: number, eol: string): string {
    const origin = this.origin!;
    lines[index] = `o=${origin.username} ${origin.sessionId} ${origin.version} ${origin.address}`;
    if (nameIndex !== -1 && origin.name !== undefined) lines[nameIndex] = origin.name;
    return lines.join(eol);
  }
}
