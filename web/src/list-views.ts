/**
 * The lists: Calls > Connected, Calls > In Queue, Agents. Tables with a
 * caption and header cells, a search box that filters as one types, ages that
 * tick every second, and focus kept on the same row across live updates.
 */
import { byId, h } from './dom.js';
import { callerOf, queueOf, shortUri, since, STATE_LABELS } from './format.js';
import type { LiveStore } from './live-store.js';
import type { Agent, CallSummary } from './types.js';

export type Section = 'connected' | 'in-queue' | 'agents';

export const SECTION_TITLES: Readonly<Record<Section, string>> = { connected: 'Calls › Connected', 'in-queue': 'Calls › In Queue', agents: 'Agents' };

const AGENT_STATUSES = ['idle', 'ringing', 'whisper', 'on-call', 'wrap-up', 'not-ready', 'logged-out'];

function matches(text: string, ...fields: readonly (string | null | undefined)[]): boolean {
  if (text === '') return true;
  return fields.some((f) => f !== null && f !== undefined && f.toLowerCase().includes(text));
}

function callMatches(c: CallSummary, text: string): boolean {
  return matches(text, c.caller.withheld ? null : c.caller.number, c.caller.name, c.dialed, c.agent, c.queue, c.queueName, ...c.queuePath);
}

function callLink(section: Section, c: CallSummary): HTMLAnchorElement {
  return h('a', { href: `#/${section}/${encodeURIComponent(c.id)}`, 'data-call': c.id }, callerOf(c));
}

function monitorsCell(c: CallSummary): HTMLTableCellElement {
  if (c.monitors.length === 0) return h('td', {}, '–');
  return h('td', {}, ...c.monitors.map((m) => h('span', { class: `badge ${m.state}`, title: m.device }, `${m.user}${m.state === 'ringing' ? ' (ringing)' : ''}`)));
}

function callRow(section: Section, c: CallSummary, selected: string | undefined): HTMLTableRowElement {
  const stuck = c.stuck ? h('span', { class: 'badge stuck' }, 'Stuck') : null;
  const attrs = { 'data-key': c.id, 'aria-current': c.id === selected ? 'true' : undefined };
  if (section === 'connected') {
    return h(
      'tr',
      attrs,
      h('td', {}, callLink(section, c), ' ', stuck),
      h('td', {}, queueOf(c)),
      h('td', { title: c.agent ?? '' }, shortUri(c.agent)),
      h('td', { class: 'num', 'data-since': c.bridgedAt ?? c.arrivedAt }, since(c.bridgedAt ?? c.arrivedAt)),
      monitorsCell(c),
    );
  }
  return h(
    'tr',
    attrs,
    h('td', {}, callLink(section, c), ' ', stuck),
    h('td', {}, queueOf(c)),
    h('td', {}, STATE_LABELS[c.state] ?? c.state),
    h('td', { class: 'num', 'data-since': c.arrivedAt }, since(c.arrivedAt)),
    h('td', { title: c.agent ?? '' }, c.agent === null ? '–' : `${shortUri(c.agent)} (ringing)`),
  );
}

function agentRow(a: Agent, store: LiveStore): HTMLTableRowElement {
  const call = a.call === null ? undefined : store.calls.get(a.call);
  const section: Section = call?.state === 'connected' ? 'connected' : 'in-queue';
  return h(
    'tr',
    { 'data-key': a.id },
    h('td', { title: a.uri ?? a.id }, a.name ?? (a.kind === 'target' && a.uri !== null ? shortUri(a.uri) : a.id)),
    h('td', { class: `status-${a.status}` }, a.status.replace('-', ' ') + (a.reason != null && a.reason !== '' ? ` (${a.reason})` : '')),
    h('td', {}, a.teams.join(', ') || '–'),
    h('td', {}, a.queues.join(', ') || '–'),
    h('td', {}, call === undefined ? '–' : h('a', { href: `#/${section}/${encodeURIComponent(call.id)}` }, callerOf(call))),
  );
}

const HEADS: Readonly<Record<Section, readonly string[]>> = {
  connected: ['Caller', 'Queue', 'Agent', 'Talk time', 'Monitoring'],
  'in-queue': ['Caller', 'Queue', 'State', 'Waiting', 'Agent'],
  agents: ['Agent', 'Status', 'Teams', 'Queues', 'Call'],
};

/** Draws `section` into the list table; returns how many rows matched. */
export function renderList(section: Section, store: LiveStore, selected: string | undefined): number {
  const search = byId<HTMLInputElement>('search').value.trim().toLowerCase();
  const statusFilter = byId<HTMLSelectElement>('status-filter');
  byId('list-title').textContent = SECTION_TITLES[section];
  byId('list-caption').textContent = SECTION_TITLES[section];
  byId('status-filter-label').hidden = section !== 'agents';
  byId<HTMLInputElement>('search').placeholder = section === 'agents' ? 'Agent, team, queue' : 'Number, name, agent, queue';
  if (statusFilter.options.length === 1) for (const s of AGENT_STATUSES) statusFilter.append(h('option', { value: s }, s.replace('-', ' ')));
  byId('list-head-row').replaceChildren(...HEADS[section].map((t) => h('th', { scope: 'col' }, t)));

  let rows: HTMLTableRowElement[];
  if (section === 'agents') {
    const status = statusFilter.value;
    rows = [...store.agents.values()]
      .filter((a) => (status === '' || a.status === status) && matches(search, a.id, a.uri, a.name, ...a.teams, ...a.queues))
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((a) => agentRow(a, store));
  } else {
    const list = section === 'connected' ? store.connected() : store.inQueue();
    rows = list.filter((c) => callMatches(c, search)).map((c) => callRow(section, c, selected));
  }

  // Live updates redraw the table: keep keyboard focus on the same row.
  const active = document.activeElement;
  const focusedKey = active instanceof HTMLElement && byId('list-body').contains(active) ? active.closest<HTMLElement>('[data-key]')?.dataset.key : undefined;
  byId('list-body').replaceChildren(...rows);
  if (focusedKey !== undefined) {
    const again = [...byId('list-body').querySelectorAll<HTMLElement>('tr[data-key]')].find((r) => r.dataset.key === focusedKey);
    again?.querySelector<HTMLElement>('a')?.focus();
  }

  const empty = byId('list-empty');
  empty.hidden = rows.length > 0;
  byId('list').hidden = rows.length === 0;
  empty.textContent = search !== '' ? `Nothing matches “${search}”.` : section === 'agents' ? 'No agents.' : section === 'connected' ? 'No connected calls right now.' : 'No calls waiting.';
  return rows.length;
}

/** Advances every age shown on the page (once a second). */
export function tickAges(): void {
  const now = Date.now();
  for (const el of document.querySelectorAll<HTMLElement>('[data-since]')) el.textContent = since(el.dataset.since ?? null, now);
}
