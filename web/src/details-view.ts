/**
 * One call's details (GET /calls/{id}) with the actions the user's role
 * allows: Monitor / Stop Monitoring (monitor) and End Call (monitor-edit).
 * The server checks every action again; the page only leaves out buttons that
 * could not work.
 */
import { ApiError, type Api } from './api.js';
import { byId, h } from './dom.js';
import { callerOf, duration, queueOf, shortUri, since, STATE_LABELS } from './format.js';
import type { CallDetails, Me } from './types.js';

export interface DetailsActions {
  /** The call this page is listening to, if any. */
  monitoring(): string | undefined;
  monitor(callId: string): void;
  stopMonitor(): void;
  endCall(call: CallDetails): void;
}

function fact(term: string, ...value: (Node | string)[]): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, ...value)];
}

export class DetailsView {
  private current: string | undefined;
  private loaded: CallDetails | undefined;
  private refresh: number | undefined;

  constructor(
    private readonly api: Api,
    private readonly me: Me,
    private readonly actions: DetailsActions,
  ) {}

  get callId(): string | undefined {
    return this.current;
  }

  /** Shows call `id` (undefined hides the panel). */
  show(id: string | undefined, focus: boolean): void {
    const changed = id !== this.current;
    this.current = id;
    byId('details').hidden = id === undefined;
    if (id === undefined) return;
    if (changed) {
      this.loaded = undefined;
      byId('details-title').textContent = 'Call details';
      byId('details-body').replaceChildren(h('dt', {}, 'Loading'), h('dd', {}, '…'));
      byId('details-actions').replaceChildren();
    }
    void this.load(id);
    if (focus) byId('details-title').focus();
  }

  /** The call changed (event stream): load it again, at most a few times a second. */
  changed(id: string, ended: string | undefined): void {
    if (id !== this.current) return;
    if (ended !== undefined) {
      this.ended(ended);
      return;
    }
    window.clearTimeout(this.refresh);
    this.refresh = window.setTimeout(() => void this.load(id), 250);
  }

  /** Redraws the buttons (the monitor state changed). */
  redrawActions(): void {
    if (this.loaded !== undefined) this.drawActions(this.loaded);
  }

  private ended(reason: string): void {
    byId('details-title').textContent = 'Call ended';
    byId('details-body').replaceChildren(...fact('Ended', reason));
    byId('details-actions').replaceChildren();
    this.loaded = undefined;
  }

  private async load(id: string): Promise<void> {
    try {
      const call = await this.api.request<CallDetails>('GET', `/calls/${encodeURIComponent(id)}`);
      if (id !== this.current) return;
      this.loaded = call;
      this.draw(call);
    } catch (e) {
      if (id !== this.current) return;
      if (e instanceof ApiError && e.status === 404) this.ended('This call is no longer live.');
      else byId('details-body').replaceChildren(...fact('Error', e instanceof Error ? e.message : String(e)));
    }
  }

  private draw(c: CallDetails): void {
    byId('details-title').textContent = `Call from ${callerOf(c)}`;
    this.drawActions(c);
    const m = c.metrics;
    const rows = [
      ...fact('State', STATE_LABELS[c.state] ?? c.state, c.stuck ? ' ' : '', c.stuck ? h('span', { class: 'badge stuck' }, 'Stuck') : ''),
      ...fact('Caller', callerOf(c)),
      ...fact('Dialed', c.dialed),
      ...fact('Queue', queueOf(c), c.queuePath.length > 1 ? ` (path: ${c.queuePath.join(' → ')})` : ''),
      ...fact('Agent', c.agent === null ? '–' : h('span', { title: c.agent }, shortUri(c.agent))),
      ...fact('Age', h('span', { 'data-since': c.arrivedAt }, since(c.arrivedAt))),
      ...fact('Waited', m.whisperMs > 0 ? `${duration(m.waitMs)} (whisper ${duration(m.whisperMs)})` : duration(m.waitMs)),
      ...fact('Talk time', c.bridgedAt === null ? '–' : h('span', { 'data-since': c.bridgedAt }, since(c.bridgedAt))),
      ...(c.bridgedAt !== null ? fact('On hold', duration(m.holdMs)) : []),
      ...fact('Flags', ...flagsOf(c)),
      ...fact('Recording', c.recording === null ? 'not recorded' : c.recording.state),
      ...fact('Monitoring', c.monitors.length === 0 ? 'nobody' : h('ul', {}, ...c.monitors.map((mo) => h('li', {}, `${mo.user} (${mo.state})`)))),
      ...fact('Agents tried', c.attempts.length === 0 ? '–' : h('ul', {}, ...c.attempts.map((a) => h('li', {}, `${shortUri(a.agent)}: ${a.outcome}${a.status !== null ? ` (${a.status})` : ''}`)))),
      ...(c.transfers.length > 0 ? fact('Transfers', h('ul', {}, ...c.transfers.map((t) => h('li', {}, `${t.from} → ${t.to} (${t.kind})`)))) : []),
      ...fact('Participants', h('ul', {}, ...c.participants.map((p) => h('li', {}, `${p.role}: ${p.role === 'caller' ? p.id : shortUri(p.id)} (${p.state})`)))),
      ...fact('Source', `${c.source.transport.toUpperCase()} ${c.source.address}`, c.trunk?.id != null ? ` (trunk ${c.trunk.id})` : ''),
      ...fact('Language', c.language),
      ...(c.crmTicket != null ? fact('CRM ticket', c.crmTicket.link !== null ? h('a', { href: c.crmTicket.link, target: '_blank', rel: 'noopener noreferrer' }, c.crmTicket.id) : c.crmTicket.id) : []),
    ];
    byId('details-body').replaceChildren(...rows);
  }

  private drawActions(c: CallDetails): void {
    const buttons: HTMLElement[] = [];
    const can = (p: string): boolean => this.me.permissions.includes(p);
    const listeningHere = this.actions.monitoring() === c.id;
    if (can('monitor') && c.state === 'connected') {
      if (listeningHere) {
        const stop = h('button', { type: 'button', class: 'danger', 'data-action': 'stop-monitoring' }, 'Stop Monitoring');
        stop.addEventListener('click', () => this.actions.stopMonitor());
        buttons.push(stop);
      } else {
        const busy = this.actions.monitoring() !== undefined;
        const start = h('button', { type: 'button', 'data-action': 'monitor', disabled: busy, title: busy ? 'Stop the other monitor first' : undefined }, 'Monitor');
        start.addEventListener('click', () => this.actions.monitor(c.id));
        buttons.push(start);
      }
    }
    if (can('monitor-edit')) {
      const end = h('button', { type: 'button', class: 'danger', 'data-action': 'end-call' }, 'End Call');
      end.addEventListener('click', () => this.actions.endCall(c));
      buttons.push(end);
    }
    // Keep focus where it was when the buttons are redrawn.
    const focused = (document.activeElement as HTMLElement | null)?.dataset.action;
    byId('details-actions').replaceChildren(...buttons);
    if (focused === undefined) return;
    // Monitor becomes Stop Monitoring and back: the focus follows the toggle.
    const next = ({ monitor: 'stop-monitoring', 'stop-monitoring': 'monitor' } as Record<string, string>)[focused];
    const target = byId('details-actions').querySelector<HTMLElement>(`[data-action="${focused}"]`) ?? byId('details-actions').querySelector<HTMLElement>(`[data-action="${next ?? ''}"]`);
    target?.focus();
  }
}

/** The caller's reserved properties (the agent's profile flags) as badges; a dash when none is set. */
const FLAG_LABELS: Readonly<Record<string, string>> = {
  reserved_verified_customer: 'Verified customer',
  reserved_bad_actor: 'Bad actor',
  reserved_repeat_customer: 'Repeat customer',
};

function flagsOf(c: CallDetails): (Node | string)[] {
  const set = Object.entries(c.reservedData ?? {}).filter(([, v]) => v === true).map(([k]) => h('span', { class: `badge flag ${k.replace(/^reserved_/, '').replace(/_/g, '-')}` }, FLAG_LABELS[k] ?? k));
  return set.length === 0 ? ['–'] : set.flatMap((b, i) => (i === 0 ? [b] : [' ', b]));
}
