/**
 * `switchboard calls list|show|monitor|end`: the supervisors' API from a
 * terminal, for operators without a browser. Tables for people, `--json` for
 * scripts; API errors print their code and reason and exit 1.
 */
import { parseArgs } from 'node:util';
import type { CallDetailsView, CallSummary } from '../../api/schemas.js';
import { UsageError } from '../../errors.js';
import { refuseRepeatedOptions } from '../args.js';
import type { Command, CommandContext } from '../command.js';
import { ApiClient } from './api-client.js';

const CLIENT_OPTIONS = { url: { type: 'string' }, 'key-file': { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } } as const;
const CLIENT_USAGE = '[--url URL] [--key-file FILE] [--config FILE] [--json]';

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** Options plus `positionals` call ids. */
function parse<T extends OptionSpec>(ctx: CommandContext, options: T, usage: string, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...ctx.argv], options: { ...CLIENT_OPTIONS, ...options }, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nusage: ${usage}`);
  }
  refuseRepeatedOptions(parsed.tokens, { ...CLIENT_OPTIONS, ...options }, usage);
  if (parsed.positionals.length !== positionals) throw new UsageError(`expected ${positionals === 0 ? 'no argument' : 'a call id'}\nusage: ${usage}`);
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const client = ApiClient.from({ url: v.url as string | undefined, keyFile: v['key-file'] as string | undefined, config: v.config as string | undefined }, ctx.cwd, process.env);
  return { values: v, id: parsed.positionals[0] ?? '', client, json: v.json === true };
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

const callerOf = (c: CallSummary): string => (c.caller.withheld ? 'withheld' : (c.caller.number ?? '-'));

const listUsage = `switchboard calls list [--state STATE]... [--queue Q]... [--team T]... [--search TEXT] [--stuck] ${CLIENT_USAGE}`;

export const callsListCommand: Command = {
  words: ['calls', 'list'],
  summary: 'List live calls (connected, in queue, ...) through the supervisors API.',
  usage: listUsage,
  async run(ctx) {
    const { values, client, json } = parse(ctx, { state: { type: 'string', multiple: true }, queue: { type: 'string', multiple: true }, team: { type: 'string', multiple: true }, search: { type: 'string' }, stuck: { type: 'boolean' } }, listUsage, 0);
    const q = new URLSearchParams();
    for (const k of ['state', 'queue', 'team'] as const) for (const x of (values[k] as string[] | undefined) ?? []) q.append(k, x);
    if (typeof values.search === 'string') q.set('q', values.search);
    if (values.stuck === true) q.set('stuck', 'true');
    const { calls } = await client.request<{ calls: CallSummary[] }>('GET', `/calls${q.size > 0 ? `?${q.toString()}` : ''}`);
    if (json) {
      ctx.stdout.write(`${JSON.stringify(calls, null, 2)}\n`);
      return 0;
    }
    if (calls.length === 0) {
      ctx.stdout.write('no live calls\n');
      return 0;
    }
    const rows = calls.map((c) => [c.id, c.state, duration(c.ageMs), c.queue ?? '-', c.team ?? '-', callerOf(c), c.agent ?? '-', String(c.monitors.length), c.stuck ? 'STUCK' : '']);
    ctx.stdout.write(table([['ID', 'STATE', 'AGE', 'QUEUE', 'TEAM', 'CALLER', 'AGENT', 'MONITORS', ''], ...rows]));
    return 0;
  },
};

const showUsage = `switchboard calls show CALL-ID ${CLIENT_USAGE}`;

export const callsShowCommand: Command = {
  words: ['calls', 'show'],
  summary: "Show one live call's details (metrics, participants, queue path, monitors).",
  usage: showUsage,
  async run(ctx) {
    const { id, client, json } = parse(ctx, {}, showUsage, 1);
    const c = await client.request<CallDetailsView>('GET', `/calls/${encodeURIComponent(id)}`);
    if (json) {
      ctx.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
      return 0;
    }
    const m = c.metrics;
    const lines = [
      `call ${c.id} (${c.sipCallId})${c.stuck ? '  STUCK' : ''}`,
      `state:       ${c.state}, ${duration(c.ageMs)} old`,
      `caller:      ${callerOf(c)}${c.caller.name !== null ? ` (${c.caller.name})` : ''}, dialed ${c.dialed}`,
      `queue path:  ${c.queuePath.join(' > ') || '-'}${c.team !== null ? ` (team ${c.team})` : ''}`,
      `agent:       ${c.agent ?? '-'}`,
      `metrics:     wait ${duration(m.waitMs)} (whisper ${duration(m.whisperMs)}), in queue ${duration(m.queueMs)}, talk ${duration(m.talkMs)}, hold ${duration(m.holdMs)}`,
      `recording:   ${c.recording !== null ? `${c.recording.id} ${c.recording.state}` : 'none'}`,
      ...c.participants.map((p) => `participant: ${p.role} ${p.id} (${p.state})`),
      ...c.transfers.map((t) => `transfer:    ${t.from} > ${t.to} (${t.kind})`),
      ...c.monitors.map((x) => `monitor:     ${x.id} ${x.user} ${x.device} ${x.state}`),
      `trunk:       ${c.trunk.id !== null ? `${c.trunk.id} (${c.trunk.name ?? c.trunk.id}, ${c.trunk.trusted ? 'trusted' : 'untrusted'})` : 'unknown source (untrusted)'}${c.callerAttestation !== null ? `, caller attestation ${c.callerAttestation}` : ''}`,
      ...Object.entries(c.reservedData).map(([k, v]) => `flag:        ${k} = ${String(v)} (set by ${c.reservedDataSetBy[k] ?? '?'})`),
    ];
    ctx.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

const monitorUsage = `switchboard calls monitor CALL-ID [--device SIP-URI | --stop MONITOR-ID] ${CLIENT_USAGE}`;

export const callsMonitorCommand: Command = {
  words: ['calls', 'monitor'],
  summary: 'Listen to a live call on your SIP phone (--device), or stop a monitor (--stop).',
  usage: monitorUsage,
  async run(ctx) {
    const { id, values, client, json } = parse(ctx, { device: { type: 'string' }, stop: { type: 'string' } }, monitorUsage, 1);
    const path = `/calls/${encodeURIComponent(id)}/monitors`;
    type Monitor = { id: string; user: string; device: string; state: string };
    let m: Monitor;
    if (typeof values.stop === 'string') {
      if (values.device !== undefined) throw new UsageError(`--device and --stop exclude each other\nusage: ${monitorUsage}`);
      m = await client.request<Monitor>('DELETE', `${path}/${encodeURIComponent(values.stop)}`);
      ctx.stdout.write(json ? `${JSON.stringify(m, null, 2)}\n` : `stopped monitor ${m.id} (${m.user} on ${m.device})\n`);
      return 0;
    }
    m = await client.request<Monitor>('POST', path, typeof values.device === 'string' ? { device: values.device } : {});
    ctx.stdout.write(json ? `${JSON.stringify(m, null, 2)}\n` : `monitor ${m.id}: ${m.device} is ${m.state}; stop with: switchboard calls monitor ${id} --stop ${m.id}\n`);
    return 0;
  },
};

const endUsage = `switchboard calls end CALL-ID --reason TEXT --confirm ${CLIENT_USAGE}`;

export const callsEndCommand: Command = {
  words: ['calls', 'end'],
  summary: 'End a (stuck) live call; needs --confirm and a --reason.',
  usage: endUsage,
  async run(ctx) {
    const { id, values, client, json } = parse(ctx, { reason: { type: 'string' }, confirm: { type: 'boolean' } }, endUsage, 1);
    if (typeof values.reason !== 'string' || values.reason === '') throw new UsageError(`missing --reason\nusage: ${endUsage}`);
    if (values.confirm !== true) throw new UsageError(`ending a call needs --confirm (check it first: switchboard calls show ${id})\nusage: ${endUsage}`);
    const r = await client.request<{ call: string; endedBy: string; reason: string }>('POST', `/calls/${encodeURIComponent(id)}/end`, { confirm: true, reason: values.reason });
    ctx.stdout.write(json ? `${JSON.stringify(r, null, 2)}\n` : `ended call ${r.call} (${r.reason})\n`);
    return 0;
  },
};
