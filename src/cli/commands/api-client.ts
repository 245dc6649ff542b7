/**
 * The HTTP client behind `switchboard calls`: where the API is (`--url`, else
 * SWITCHBOARD_API_URL, else the configuration's api.host/port, else
 * http://127.0.0.1:9092) and which key to send (SWITCHBOARD_API_KEY, or
 * `--key-file`; never an argument, which other users could read in `ps`).
 * API errors come back as ApiCallError with the API's code and reason.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configChecks } from '../../app/config-checks.js';
import { loadConfigFile } from '../../config/load.js';
import { ErrorCodes, SwitchboardError, UsageError } from '../../errors.js';

export class ApiCallError extends SwitchboardError {
  constructor(
    readonly status: number,
    readonly apiCode: string,
    readonly reason: string,
  ) {
    super(ErrorCodes.API_BAD_REQUEST, `${status} ${apiCode}: ${reason}`);
  }
}

export interface ClientOptions {
  readonly url?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly config?: string | undefined;
}

export class ApiClient {
  private constructor(
    readonly baseUrl: string,
    private readonly key: string,
    /** Where baseUrl came from, for the error when nothing answers there. */
    private readonly urlSource: string,
  ) {}

  static from(o: ClientOptions, cwd: string, env: NodeJS.ProcessEnv): ApiClient {
    let url = o.url ?? env.SWITCHBOARD_API_URL;
    let source = o.url !== undefined ? '--url' : 'SWITCHBOARD_API_URL';
    if (url === undefined && o.config !== undefined) {
      const c = loadConfigFile(resolve(cwd, o.config), { checks: configChecks });
      url = `http://${c.api.host.includes(':') ? `[${c.api.host}]` : c.api.host}:${c.api.port}`;
      source = `api.host and api.port of ${o.config}`;
    }
    if (url === undefined) {
      url = 'http://127.0.0.1:9092';
      source = 'the default; give --config FILE (its api.host and api.port), --url or SWITCHBOARD_API_URL for another';
    }
    if (!/^https?:\/\/[^\s/]+/.test(url)) throw new UsageError(`the API URL "${url}" is not an http(s) URL`);
    let key = env.SWITCHBOARD_API_KEY;
    if (o.keyFile !== undefined) {
      try {
        key = readFileSync(resolve(cwd, o.keyFile), 'utf8').trim();
      } catch (e) {
        throw new UsageError(`--key-file ${o.keyFile}: ${(e as Error).message}`);
      }
    }
    if (key === undefined || key === '') throw new UsageError('no API key: set SWITCHBOARD_API_KEY or give --key-file FILE (switchboard keys add prints one)');
    return new ApiClient(url.replace(/\/+$/, ''), key, source);
  }

  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), 'user-agent': 'switchboard-cli' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      throw new SwitchboardError(ErrorCodes.API_BAD_REQUEST, `cannot reach the API at ${this.baseUrl} (${cause ?? (e as Error).message}); the address is ${this.urlSource}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const e = parsed as { code?: string; reason?: string } | undefined;
      throw new ApiCallError(res.status, e?.code ?? 'unknown', e?.reason ?? (text.slice(0, 200) || res.statusText));
    }
    return parsed as T;
  }
}
