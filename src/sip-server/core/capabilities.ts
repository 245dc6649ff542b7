/**
 * What the server tells peers it can do (RFC 3261 §11.2, §13.3.1.4, §20.5,
 * §20.37): one Allow for every response that carries one (405, 501, the 2xx
 * to OPTIONS and to INVITE), and one Supported. The methods are those served:
 * configured (`uas.allowMethods`), handled by the server itself (ACK, CANCEL,
 * PRACK) and routed by a connected app (REGISTER, MESSAGE, ...). The option
 * tags are the extensions the server implements for every app: 100rel
 * (RFC 3262) and, when on, timer (RFC 4028).
 */
import type { HeaderField } from '../message/sip-message.js';
import type { AppRouter } from './core-base.js';
import type { UasChecks } from './uas-checks.js';

export class Capabilities {
  private readonly supported: string;

  constructor(
    private readonly uas: UasChecks,
    private readonly apps: AppRouter,
    sessionTimers: boolean,
  ) {
    this.supported = sessionTimers ? '100rel, timer' : '100rel';
  }

  /** The Allow header's value: the same set a 405 lists. */
  allow(): string {
    return allowValue(this.uas, this.apps);
  }

  /**
   * §11.2 (OPTIONS: SHOULD) and §13.3.1.4 (INVITE: SHOULD): Allow and
   * Supported for an app's 2xx to either, each only when the app wrote none.
   */
  for2xx(method: string, status: number, given: readonly HeaderField[]): HeaderField[] {
    if (status < 200 || status >= 300 || (method !== 'OPTIONS' && method !== 'INVITE')) return [];
    const out: HeaderField[] = [];
    if (!given.some((f) => f.key === 'allow')) out.push({ name: 'Allow', key: 'allow', value: this.allow() });
    if (!given.some((f) => f.key === 'supported')) out.push({ name: 'Supported', key: 'supported', value: this.supported });
    return out;
  }
}

/** The methods served (configured, the server's own, routed by a connected app), as an Allow header's value. */
export function allowValue(uas: UasChecks, apps: AppRouter): string {
  return uas.allowed(apps.routedVerbs()).join(', ');
}
