/**
 * The carrier gateways the engine dials phone numbers through: where an
 * E.164 number goes (a SIP URI at the trunk), with which credentials, which
 * number the called party sees, how long it may ring, whether it is
 * trusted with asserted identities, and how it is told a call was forwarded. Password files are read once at start.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { SwitchboardConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { RetargetingHeader } from './retargeting.js';

type TrunkConfig = SwitchboardConfig['trunks']['outbound'][number];

export interface OutboundTrunk {
  readonly id: string;
  readonly name: string;
  /** The SIP URI for `number` (E.164) at this trunk. */
  uriFor(number: string): string;
  readonly auth: { readonly username: string; readonly password: string } | undefined;
  readonly callerId: string | undefined;
  /** How long a call through it may go unanswered before it is CANCELled. */
  readonly ringTimeoutMs: number;
  /** The gateway is in our trust domain: a P-Asserted-Identity from a trusted inbound trunk goes on to it (RFC 3325). */
  readonly trustedIdentity: boolean;
  /** How it is told a call was forwarded (retargeting.ts). */
  readonly redirectionHeader: RetargetingHeader;
}

function uriHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function build(t: TrunkConfig, index: number, baseDir: string): OutboundTrunk {
  let password = t.password;
  if (password === undefined && t.passwordFile !== undefined) {
    const file = isAbsolute(t.passwordFile) ? t.passwordFile : resolve(baseDir, t.passwordFile);
    try {
      password = readFileSync(file, 'utf8').split(/\r?\n/)[0]!.trim();
    } catch (e) {
      throw new ConfigError([{ path: `trunks.outbound[${index}].passwordFile`, message: `cannot read ${file}: ${(e as Error).message}` }]);
    }
  }
  const scheme = t.transport === 'tls' ? 'sips' : 'sip';
  const transport = t.transport === 'udp' ? '' : `;transport=${t.transport}`;
  return {
    id: t.id,
    name: t.name ?? t.id,
    uriFor: (number) => {
      const user = t.numberFormat === 'digits' ? number.replace(/^\+/, '') : number;
      return `${scheme}:${user}@${uriHost(t.host)}:${t.port}${transport}`;
    },
    auth: t.username !== undefined && password !== undefined ? { username: t.username, password } : undefined,
    callerId: t.callerId,
    ringTimeoutMs: t.ringTimeoutSeconds * 1000,
    trustedIdentity: t.trustedIdentity,
    redirectionHeader: t.redirectionHeader,
  };
}

export class OutboundTrunks {
  private readonly byId = new Map<string, OutboundTrunk>();
  private readonly defaultId: string | undefined;

  constructor(config: SwitchboardConfig, baseDir: string) {
    config.trunks.outbound.forEach((t, i) => this.byId.set(t.id, build(t, i, baseDir)));
    this.defaultId = config.engine.outboundTrunk ?? (config.trunks.outbound.length === 1 ? config.trunks.outbound[0]!.id : undefined);
  }

  /** The trunk phone-number deflections use; undefined when none is configured. */
  forDeflection(): OutboundTrunk | undefined {
    return this.defaultId === undefined ? undefined : this.byId.get(this.defaultId);
  }
}
