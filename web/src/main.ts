/**
 * The supervisors' web console: sign in with an API key, then Calls >
 * Connected, Calls > In Queue and Agents, live from the API's event stream,
 * one call's details, Monitor / Stop Monitoring in the browser (SIP.js over
 * SIP WebSocket, WebRTC audio), and End Call after a confirmation. Only what
 * the key's role allows is offered; the API enforces it regardless.
 *
 * Navigation is by URL fragment (#/connected, #/in-queue/<call>, #/agents),
 * so the browser's back button, links and keyboard all work.
 */
import { Api, ApiError } from './api.js';
import { DetailsView } from './details-view.js';
import { announce, byId } from './dom.js';
import { EventStream } from './event-stream.js';
import { callerOf } from './format.js';
import { renderList, SECTION_TITLES, tickAges, type Section } from './list-views.js';
import { LiveStore } from './live-store.js';
import { BrowserMonitor } from './monitor.js';
import type { CallDetails, Me } from './types.js';

const KEY_STORAGE = 'switchboard.apiKey';

interface Route {
  readonly section: Section;
  readonly call: string | undefined;
}

function parseRoute(): Route {
  const [, section, call] = /^#\/(connected|in-queue|agents)(?:\/([^/]+))?$/.exec(window.location.hash) ?? [];
  return { section: (section as Section | undefined) ?? 'connected', call: call === undefined ? undefined : decodeURIComponent(call) };
}

class Console {
  private readonly store = new LiveStore();
  private readonly stream: EventStream;
  private readonly details: DetailsView;
  private monitor: BrowserMonitor | undefined;
  private route: Route = parseRoute();
  private readonly timers: number[] = [];

  constructor(
    private readonly api: Api,
    private readonly me: Me,
  ) {
    this.details = new DetailsView(api, me, {
      monitoring: () => this.monitor?.callId,
      monitor: (id) => void this.startMonitor(id),
      stopMonitor: () => void this.monitor?.stop(),
      endCall: (c) => this.confirmEnd(c),
    });
    this.stream = new EventStream(api, {
      onEvent: (type, data) => this.store.apply(type, data),
      onState: (state) => {
        const el = byId('connection');
        el.hidden = state === 'open';
        el.textContent = state === 'connecting' ? 'Connecting to live updates…' : 'Live updates interrupted; reconnecting…';
      },
      onDenied: (e) => signOut(`Signed out: ${e.reason}`),
    });
  }

  start(): void {
    byId('who').textContent = `${this.me.user} (${this.me.role})`;
    for (const id of ['who', 'sign-out', 'sections', 'app']) byId(id).hidden = false;
    byId('sign-in').hidden = true;
    this.store.subscribe((change) => {
      this.drawList();
      if (change.kind === 'call') this.details.changed(change.id, change.ended ? this.store.ended.get(change.id) : undefined);
      if (change.kind === 'reset' && this.details.callId !== undefined) this.details.changed(this.details.callId, this.store.calls.has(this.details.callId) ? undefined : 'This call is no longer live.');
    });
    byId<HTMLInputElement>('search').addEventListener('input', () => this.drawList());
    byId<HTMLSelectElement>('status-filter').addEventListener('change', () => this.drawList());
    byId('monitor-stop').addEventListener('click', () => void this.monitor?.stop());
    byId('details-close').addEventListener('click', (e) => {
      e.preventDefault();
      window.location.hash = `#/${this.route.section}`;
    });
    window.addEventListener('hashchange', () => this.navigate(true));
    this.timers.push(window.setInterval(tickAges, 1000));
    this.navigate(false);
    this.stream.start();
  }

  stop(): void {
    this.stream.stop();
    for (const t of this.timers) window.clearInterval(t);
    void this.monitor?.stop();
  }

  private navigate(focus: boolean): void {
    this.route = parseRoute();
    for (const a of document.querySelectorAll<HTMLAnchorElement>('#sections a')) {
      if (a.dataset.section === this.route.section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = `${SECTION_TITLES[this.route.section]} · Switchboard`;
    this.drawList();
    this.details.show(this.route.section === 'agents' ? undefined : this.route.call, focus && this.route.call !== undefined);
  }

  private drawList(): void {
    renderList(this.route.section, this.store, this.route.call);
    byId('sections').querySelector('[data-count="connected"]')!.textContent = String(this.store.connected().length);
    byId('sections').querySelector('[data-count="in-queue"]')!.textContent = String(this.store.inQueue().length);
    byId('sections').querySelector('[data-count="agents"]')!.textContent = String(this.store.agents.size);
  }

  private async startMonitor(callId: string): Promise<void> {
    if (this.monitor !== undefined) return;
    const call = this.store.calls.get(callId);
    const who = call !== undefined ? callerOf(call) : callId;
    const bar = byId('monitor-bar');
    const state = byId('monitor-state');
    const monitor = new BrowserMonitor(this.api, callId, byId<HTMLAudioElement>('monitor-audio'), byId<HTMLMeterElement>('monitor-level'), {
      onPhase: (phase, detail, failed) => {
        bar.hidden = phase === 'ended';
        bar.dataset.phase = phase;
        state.textContent = phase === 'connecting' ? `Connecting to the call from ${who}…` : phase === 'listening' ? `Listening to the call from ${who}` : phase === 'stopping' ? 'Stopping…' : '';
        if (phase === 'listening') announce(`Listening to the call from ${who}.`);
        if (phase === 'ended') {
          this.monitor = undefined;
          announce(`Monitoring ended${detail !== undefined ? ` (${detail})` : ''}.`);
          if (failed === true) window.alert(`Monitoring stopped: ${detail ?? 'it failed'}.`);
        }
        this.details.redrawActions();
      },
    });
    this.monitor = monitor;
    this.details.redrawActions();
    try {
      await monitor.start(this.me.user);
    } catch (e) {
      const reason = e instanceof ApiError ? e.reason : e instanceof Error ? e.message : String(e);
      await monitor.stop();
      this.monitor = undefined;
      this.details.redrawActions();
      announce(`Could not monitor: ${reason}`);
      window.alert(`Could not monitor the call: ${reason}`);
    }
  }

  private confirmEnd(call: CallDetails): void {
    const dialog = byId<HTMLDialogElement>('end-call');
    const reason = byId<HTMLInputElement>('end-call-reason');
    byId('end-call-what').textContent = `The call from ${callerOf(call)}${call.agent !== null ? ` with ${call.agent}` : ''}.`;
    reason.value = '';
    dialog.returnValue = '';
    dialog.addEventListener(
      'close',
      () => {
        if (dialog.returnValue !== 'end') return;
        this.api.request('POST', `/calls/${encodeURIComponent(call.id)}/end`, { confirm: true, reason: reason.value.trim() }).then(
          () => announce(`The call from ${callerOf(call)} was ended.`),
          (e: unknown) => window.alert(`Could not end the call: ${e instanceof ApiError ? e.reason : String(e)}`),
        );
      },
      { once: true },
    );
    dialog.showModal();
    reason.focus();
  }
}

let running: Console | undefined;

function signOut(message = ''): void {
  running?.stop();
  running = undefined;
  sessionStorage.removeItem(KEY_STORAGE);
  sessionStorage.setItem('switchboard.signOutMessage', message);
  window.location.hash = '';
  window.location.reload();
}

async function signIn(key: string): Promise<void> {
  const api = new Api(key);
  const me = await api.request<Me>('GET', '/me');
  sessionStorage.setItem(KEY_STORAGE, key);
  if (!me.permissions.includes('calls-view')) {
    byId('sign-in').hidden = true;
    byId('app').hidden = false;
    byId('list-view').replaceChildren(Object.assign(document.createElement('p'), { className: 'empty', textContent: `Signed in as ${me.user}. The role ${me.role} has no access to calls or agents.` }));
    byId('who').textContent = `${me.user} (${me.role})`;
    byId('who').hidden = false;
    byId('sign-out').hidden = false;
    return;
  }
  running = new Console(api, me);
  running.start();
}

function showSignIn(message: string): void {
  byId('sign-in').hidden = false;
  byId('sign-in-error').textContent = message;
  byId<HTMLInputElement>('api-key').focus();
}

function boot(): void {
  byId('sign-out').addEventListener('click', () => signOut());
  byId<HTMLFormElement>('sign-in').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = byId<HTMLInputElement>('api-key');
    const key = input.value.trim();
    byId('sign-in-error').textContent = '';
    signIn(key).then(
      () => {
        input.value = '';
      },
      (err: unknown) => showSignIn(err instanceof ApiError ? `Not signed in: ${err.reason}` : `Not signed in: ${String(err)}`),
    );
  });
  const stored = sessionStorage.getItem(KEY_STORAGE);
  const message = sessionStorage.getItem('switchboard.signOutMessage') ?? '';
  sessionStorage.removeItem('switchboard.signOutMessage');
  if (stored === null) showSignIn(message);
  else signIn(stored).catch(() => showSignIn('Your key is no longer accepted; sign in again.'));
}

boot();
