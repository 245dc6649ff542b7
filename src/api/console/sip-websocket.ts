/**
 * Which SIP WebSocket server (RFC 7118) a browser should use: the configured
 * URL (a proxy in front, a real drachtio-server), else the embedded server's
 * first `wss` listener, else its first `ws` listener. A listener on every
 * address (0.0.0.0, ::) is reached at the host name the browser used for the
 * console, which is the name it can resolve.
 */
import type { SipWebSocketListener } from '../api-context.js';

const WILDCARD = new Set(['0.0.0.0', '::', '[::]', '']);

/** The URL, or undefined when this deployment has no SIP WebSocket server for browsers. */
export function sipWebSocketUrl(configured: string | undefined, listeners: readonly SipWebSocketListener[], requestHostname: string): string | undefined {
  if (configured !== undefined) return configured;
  const listener = listeners.find((l) => l.transport === 'wss') ?? listeners.find((l) => l.transport === 'ws');
  if (listener === undefined) return undefined;
  const host = WILDCARD.has(listener.host) ? requestHostname : listener.host;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${listener.transport}://${bracketed}:${listener.port}`;
}

/** The SIP URI of a monitor ticket at that server (RFC 7118 §5.1: `transport=ws`/`wss`). */
export function ticketUri(token: string, webSocketUrl: string): string {
  const url = new URL(webSocketUrl);
  const transport = url.protocol === 'wss:' ? 'wss' : 'ws';
  return `sip:monitor-${token}@${url.host};transport=${transport}`;
}
