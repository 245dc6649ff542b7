/**
 * The layering rule of docs/architecture.md, enforced: nothing imports
 * "upward", the SIP server knows nothing of contact centres, policy is pure
 * (no I/O modules), and there are no import cycles between files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const srcDir = join(root, 'src');

/** Which top-level parts of src/ each part may import. */
const allowed: Record<string, readonly string[]> = {
  'errors.ts': [],
  config: ['errors.ts'],
  observability: ['errors.ts', 'config'],
  daemon: ['errors.ts', 'observability'],
  audio: ['errors.ts', 'daemon'],
  'sip-server': ['errors.ts', 'config', 'observability'],
  policy: ['errors.ts', 'config'],
  media: ['errors.ts', 'config', 'observability', 'daemon', 'audio'],
  recordings: ['errors.ts', 'config', 'observability', 'daemon', 'audio'],
  engine: ['errors.ts', 'config', 'observability', 'policy', 'media', 'recordings', 'audio'],
  api: ['errors.ts', 'config', 'observability', 'policy', 'media', 'recordings', 'engine'],
  app: ['errors.ts', 'config', 'observability', 'daemon', 'audio', 'policy', 'media', 'recordings', 'engine', 'api', 'sip-server'],
  cli: ['errors.ts', 'config', 'observability', 'daemon', 'audio', 'policy', 'media', 'recordings', 'engine', 'api', 'sip-server', 'app'],
};

/** Node built-ins that do I/O: pure layers must not import them. */
const ioModules = /^(node:)?(fs|fs\/promises|net|dgram|http|https|http2|child_process|worker_threads|tls|dns|cluster|process)$/;

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  const re = /(?:^|\s)(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of text.matchAll(re)) specs.push((m[1] ?? m[2])!);
  return specs;
}

function partOf(file: string): string {
  const rel = relative(srcDir, file).split('/');
  return rel.length === 1 ? rel[0]! : rel[0]!;
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const target = resolve(dirname(from), spec).replace(/\.js$/, '.ts');
  return target;
}

const files = listTs(srcDir);
const graph = new Map<string, string[]>();
for (const f of files) {
  graph.set(
    f,
    importsOf(f)
      .map((s) => resolveLocal(f, s))
      .filter((x): x is string => x !== undefined),
  );
}

describe('architecture: layers', () => {
  it('every src file belongs to a known part', () => {
    const unknown = files.filter((f) => allowed[partOf(f)] === undefined).map((f) => relative(root, f));
    expect(unknown).toEqual([]);
  });

  it('nothing imports upward (the rule table in docs/architecture.md)', () => {
    const violations: string[] = [];
    for (const [f, deps] of graph) {
      const from = partOf(f);
      for (const d of deps) {
        const to = partOf(d);
        if (to !== from && !(allowed[from] ?? []).includes(to)) {
          violations.push(`${relative(root, f)} -> ${relative(root, d)}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('relative imports point at files that exist', () => {
    const missing: string[] = [];
    for (const [f, deps] of graph) {
      for (const d of deps) {
        try {
          statSync(d);
        } catch {
          missing.push(`${relative(root, f)} -> ${relative(root, d)}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('src/policy is pure: it imports no I/O module', () => {
    const impure = files
      .filter((f) => partOf(f) === 'policy')
      .flatMap((f) => importsOf(f).filter((s) => ioModules.test(s)).map((s) => `${relative(root, f)} imports ${s}`));
    expect(impure).toEqual([]);
  });

  it('there are no import cycles between files', () => {
    // Tarjan's strongly connected components; any component larger than one file is a cycle.
    let index = 0;
    const stack: string[] = [];
    const onStack = new Set<string>();
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const cycles: string[][] = [];
    const visit = (v: string): void => {
      idx.set(v, index);
      low.set(v, index);
      index++;
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!idx.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) {
          low.set(v, Math.min(low.get(v)!, idx.get(w)!));
        }
      }
      if (low.get(v) === idx.get(v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(relative(root, w));
        } while (w !== v);
        if (comp.length > 1) cycles.push(comp);
      }
    };
    for (const v of graph.keys()) if (!idx.has(v)) visit(v);
    expect(cycles).toEqual([]);
  });
});
