/**
 * The web console's built files (`npm run build` writes them to `dist/web/`
 * from `web/`: the page, one script bundle with SIP.js inside, one style
 * sheet), read once into memory and served with an ETag. Nothing is fetched
 * from anywhere else: no CDN, no fonts, no third-party script.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface ConsoleFile {
  readonly body: Buffer;
  /** The same, gzip-compressed (RFC 9110 §8.4.1.3), for clients that accept it: the script bundle shrinks about fourfold. */
  readonly gzip: Buffer;
  readonly type: string;
  readonly etag: string;
}

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
};
const SERVABLE = /^[a-z0-9][a-z0-9.-]*\.(html|js|css|svg|png)$/;

/** The directory holding package.json above `from` (the source and the compiled tree both live under it). */
export function packageRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/** Where `npm run build` puts the console. */
export const CONSOLE_DIR = join(packageRoot(import.meta.dirname), 'dist', 'web');

/** The console's files by name, or undefined when the console was not built. */
export function loadConsoleFiles(dir = CONSOLE_DIR): ReadonlyMap<string, ConsoleFile> | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const files = new Map<string, ConsoleFile>();
  for (const name of readdirSync(dir)) {
    const m = SERVABLE.exec(name);
    if (m === null) continue;
    const body = readFileSync(join(dir, name));
    files.set(name, { body, gzip: gzipSync(body, { level: 9 }), type: TYPES[m[1]!]!, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return files;
}
