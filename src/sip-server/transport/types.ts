/** What the transport layer (RFC 3261 §18) tells the layers above about where messages come from and go. */

export type TransportProtocol = 'udp' | 'tcp';

export interface ListenerInfo {
  readonly id: number;
  readonly transport: TransportProtocol;
  /** Bound address. */
  readonly host: string;
  /** Bound port (the real one when 0 was configured). */
  readonly port: number;
  /** Address written into Via and Contact. */
  readonly advertisedHost: string;
  readonly family: 4 | 6;
}

/** The remote end of a message and the local listener it used. */
export interface Flow {
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port: number;
  readonly listener: ListenerInfo;
  /** The TCP connection a message arrived on (responses go back on it, §18.2.2). */
  readonly connectionId?: number;
}

/** Where to send: a resolved address, and optionally an existing connection to prefer. */
export interface Destination {
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port: number;
  readonly connectionId?: number;
}

export type SendErrorHandler = (error: Error) => void;
