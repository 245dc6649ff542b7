/**
 * Minimal SVG charts for benchmark results (no dependency): every benchmark
 * writes its data as JSON and draws it with these, so results can be read at a
 * glance and compared with the baseline measured in the same run.
 */
import { writeFileSync } from 'node:fs';

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Horizontal reference lines (targets, baselines). */
  readonly marks?: readonly { readonly label: string; readonly y: number }[];
  readonly logY?: boolean;
}

export interface BarChart {
  readonly title: string;
  readonly yLabel: string;
  readonly bars: readonly { readonly label: string; readonly value: number; readonly note?: string }[];
}

const W = 800;
const H = 450;
const M = { left: 80, right: 180, top: 50, bottom: 60 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(10)));
  return ticks;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  return Number(v.toPrecision(4)).toString();
}

export function renderLineChart(chart: LineChart): string {
  const all = chart.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = [...all.map((p) => p[1]), ...(chart.marks ?? []).map((m) => m.y)];
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, 1);
  const tf = chart.logY === true ? (v: number) => Math.log10(Math.max(v, 1e-9)) : (v: number) => v;
  const yMin = chart.logY === true ? Math.min(...ys.map(tf)) : Math.min(0, ...ys);
  const yMax = Math.max(...ys.map(tf), yMin + 1) * (chart.logY === true ? 1 : 1.05);
  const px = (x: number) => M.left + ((x - xMin) / (xMax - xMin || 1)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((tf(y) - yMin) / (yMax - yMin || 1)) * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16">${esc(chart.title)}</text>`);
  for (const t of niceTicks(xMin, xMax)) {
    parts.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${H - M.bottom}" y2="${M.top}" stroke="#eee"/>`);
    parts.push(`<text x="${px(t)}" y="${H - M.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  const yTicks = chart.logY === true ? niceTicks(Math.floor(yMin), Math.ceil(yMax)).map((e) => 10 ** e) : niceTicks(yMin, yMax);
  for (const t of yTicks) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(t)}" y2="${py(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="black"/>`);
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="black"/>`);
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 16}" text-anchor="middle">${esc(chart.xLabel)}</text>`);
  parts.push(
    `<text x="18" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(M.top + H - M.bottom) / 2})">${esc(chart.yLabel)}</text>`,
  );
  for (const m of chart.marks ?? []) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(m.y)}" y2="${py(m.y)}" stroke="#999" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${W - M.right + 4}" y="${py(m.y) + 4}" fill="#666">${esc(m.label)}</text>`);
  }
  chart.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (pts.length > 0) {
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${px(p[0])},${py(p[1])}`).join(' ')}"/>`);
      for (const p of pts) parts.push(`<circle cx="${px(p[0])}" cy="${py(p[1])}" r="3" fill="${color}"/>`);
    }
    const ly = M.top + 10 + i * 18;
    parts.push(`<rect x="${W - M.right + 10}" y="${ly - 8}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${W - M.right + 28}" y="${ly + 2}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function renderBarChart(chart: BarChart): string {
  const max = Math.max(...chart.bars.map((b) => b.value), 1) * 1.1;
  const n = chart.bars.length;
  const plotW = W - M.left - 40;
  const slot = plotW / Math.max(n, 1);
  const py = (v: number) => H - M.bottom - (v / max) * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16">${esc(chart.title)}</text>`);
  for (const t of niceTicks(0, max)) {
    parts.push(`<line x1="${M.left}" x2="${W - 40}" y1="${py(t)}" y2="${py(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  parts.push(
    `<text x="18" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(M.top + H - M.bottom) / 2})">${esc(chart.yLabel)}</text>`,
  );
  chart.bars.forEach((b, i) => {
    const x = M.left + i * slot + slot * 0.15;
    const w = slot * 0.7;
    parts.push(`<rect x="${x}" y="${py(b.value)}" width="${w}" height="${H - M.bottom - py(b.value)}" fill="${COLORS[i % COLORS.length]!}"/>`);
    parts.push(`<text x="${x + w / 2}" y="${py(b.value) - 4}" text-anchor="middle">${fmt(b.value)}${b.note !== undefined ? ` ${esc(b.note)}` : ''}</text>`);
    parts.push(`<text x="${x + w / 2}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(b.label)}</text>`);
  });
  parts.push(`<line x1="${M.left}" x2="${W - 40}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="black"/>`);
  parts.push('</svg>');
  return parts.join('\n');
}

export function writeLineChart(file: string, chart: LineChart): void {
  writeFileSync(file, renderLineChart(chart));
}

export function writeBarChart(file: string, chart: BarChart): void {
  writeFileSync(file, renderBarChart(chart));
}
