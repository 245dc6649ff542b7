/**
 * The supervisors' API from the page: every request carries the user's key
 * (`Authorization: Bearer`, RFC 6750 §2.1; never in a URL, where logs and
 * history would keep it). Errors are the API's `{statusCode, code, reason}`.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly reason: string,
  ) {
    super(`${status} ${reason}`);
  }
}

export class Api {
  constructor(readonly key: string) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.key}`, ...extra };
  }

  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: this.headers(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      cache: 'no-store',
    });
    const text = await res.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (!res.ok) {
      const e = (parsed ?? {}) as { code?: string; reason?: string };
      throw new ApiError(res.status, e.code ?? 'SB_HTTP', e.reason ?? res.statusText);
    }
    return parsed as T;
  }
}
