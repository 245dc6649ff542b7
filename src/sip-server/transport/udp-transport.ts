/** SIP over UDP (RFC 3261 §18.1.1, §18.2.1): one socket per listener, datagrams are whole messages. */
import { createSocket, type Socket } from 'node:dgram';
import type { Destination, Flow, ListenerInfo, SendErrorHandler } from './types.js';

export class UdpTransport {
  private socket: Socket | undefined;
  info: ListenerInfo | undefined;

  constructor(
    private readonly id: number,
    private readonly host: string,
    private readonly port: number,
    private readonly advertisedHost: string | undefined,
    private readonly onDatagram: (data: Buffer, flow: Flow) => void,
  ) {}

  async start(): Promise<ListenerInfo> {
    const family = this.host.includes(':') ? 6 : 4;
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: 8 * 1024 * 1024, sendBufferSize: 8 * 1024 * 1024 });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.port, this.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const addr = socket.address();
    const info: ListenerInfo = {
      id: this.id,
      transport: 'udp',
      host: this.host,
      port: addr.port,
      advertisedHost: this.advertisedHost ?? this.host,
      family,
    };
    this.info = info;
    socket.on('message', (data, rinfo) => {
      this.onDatagram(data, { transport: 'udp', address: rinfo.address, port: rinfo.port, listener: info });
    });
    // ICMP errors and the like: a UDP socket keeps serving.
    socket.on('error', () => undefined);
    return info;
  }

  send(data: Buffer, dest: Destination, onError?: SendErrorHandler): void {
    const socket = this.socket;
    if (socket === undefined) {
      onError?.(new Error('UDP transport not started'));
      return;
    }
    socket.send(data, dest.port, dest.address, (err) => {
      if (err !== null && err !== undefined) onError?.(err);
    });
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
