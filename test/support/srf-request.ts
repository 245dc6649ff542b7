/** drachtio-srf's `srf.request` as a promise of the final response (its typings describe another signature). */
import type Srf from 'drachtio-srf';

export interface FinalResponse {
  readonly status: number;
  get(header: string): string | undefined;
  /** The meta block drachtio-srf keeps: protocol, source address and port. */
  readonly protocol: string;
  readonly source_address: string;
}

interface SentRequest {
  on(event: 'response', fn: (res: FinalResponse) => void): void;
}

type RequestFn = (uri: string, opts: { method: string; headers?: Record<string, string>; body?: string }, cb: (err: Error | null, req: SentRequest) => void) => void;

/** Sends `method` to `uri` through the server; resolves with the final response, rejects on the server's NOK. */
export function sendRequest(srf: Srf, uri: string, method: string, headers: Record<string, string> = {}): Promise<FinalResponse> {
  return new Promise((resolve, reject) => {
    (srf.request as unknown as RequestFn).call(srf, uri, { method, headers }, (err, req) => {
      if (err) {
        reject(err);
        return;
      }
      req.on('response', (res) => {
        if (res.status >= 200) resolve(res);
      });
    });
  });
}
