/**
 * Readiness of a peer we cannot ask (SIPp as an agent): its socket is bound
 * once the kernel lists the port, in /proc/net/udp[6] or, for TCP, as a
 * listening socket in /proc/net/tcp[6]. No sleeping and hoping.
 */
import { readFileSync } from 'node:fs';

const TCP_LISTEN = '0A';

function bound(file: string, port: number, listenOnly: boolean): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    if (local === undefined || !local.endsWith(`:${hexPort}`)) continue;
    if (!listenOnly || cols[3] === TCP_LISTEN) return true;
  }
  return false;
}

export function isBound(port: number, transport: 'udp' | 'tcp'): boolean {
  return transport === 'udp'
    ? bound('/proc/net/udp', port, false) || bound('/proc/net/udp6', port, false)
    : bound('/proc/net/tcp', port, true) || bound('/proc/net/tcp6', port, true);
}

/** Resolves once something is bound to `port` (bounded); rejects with `what` otherwise. */
export async function waitForBound(port: number, transport: 'udp' | 'tcp', what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (isBound(port, transport)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} did not bind ${transport} port ${port} within ${timeoutMs} ms`);
}
