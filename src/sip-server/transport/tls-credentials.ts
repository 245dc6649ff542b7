/**
 * The certificate, key and CA of a TLS or WSS listener (RFC 3261 §26.2.1):
 * read from files, checked (PEM, key matching certificate, validity dates),
 * turned into one Node SecureContext shared by the listener and by the
 * connections it opens, and re-read on demand (SIGHUP) without dropping a
 * connection: a bad new file leaves the old context in place.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';

export type VerifyClient = 'off' | 'optional' | 'required';

export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA bundle for client certificates and for the servers we connect to (default: Node's root CAs). */
  readonly caFile?: string | undefined;
  /** Ask clients for a certificate: `optional` verifies one when sent, `required` refuses clients without a valid one. */
  readonly verifyClient: VerifyClient;
  /** Verify the certificate of servers we connect to (chain and RFC 5922 name). */
  readonly verifyServer: boolean;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  /** The certificate's end of validity (ISO). */
  readonly notAfter: string;
}

/**
 * Reads and checks the files of `settings`. Returns the material, or every
 * problem found (each naming its file), so a config check can list them all.
 */
export function loadTlsMaterial(settings: TlsSettings, now = new Date()): TlsMaterial | string[] {
  const problems: string[] = [];
  const read = (what: string, file: string): Buffer | undefined => {
    try {
      return readFileSync(file);
    } catch (e) {
      problems.push(`cannot read ${what} ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      return undefined;
    }
  };
  const cert = read('certificate file', settings.certFile);
  const key = read('key file', settings.keyFile);
  const ca = settings.caFile !== undefined ? read('CA file', settings.caFile) : undefined;
  let notAfter = '';
  if (cert !== undefined) {
    try {
      const x509 = new X509Certificate(cert);
      notAfter = new Date(x509.validTo).toISOString();
      if (new Date(x509.validTo) < now) problems.push(`certificate ${settings.certFile} expired on ${notAfter}`);
      else if (new Date(x509.validFrom) > now) problems.push(`certificate ${settings.certFile} is not valid before ${new Date(x509.validFrom).toISOString()}`);
    } catch {
      problems.push(`${settings.certFile} holds no PEM certificate`);
    }
  }
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch {
      problems.push(`${settings.caFile ?? ''} holds no PEM certificate`);
    }
  }
  if (problems.length === 0 && cert !== undefined && key !== undefined) {
    try {
      createSecureContext({ cert, key, ...(ca !== undefined ? { ca } : {}) });
    } catch (e) {
      problems.push(describeContextError(e, settings));
    }
  }
  if (problems.length > 0 || cert === undefined || key === undefined) return problems;
  return { cert, key, ca, notAfter };
}

function describeContextError(e: unknown, s: TlsSettings): string {
  const message = e instanceof Error ? e.message : String(e);
  if (/key values mismatch/i.test(message)) return `key ${s.keyFile} does not belong to certificate ${s.certFile}`;
  if (/bad decrypt|PEM|DECODER|no start line|bad base64/i.test(message)) return `key ${s.keyFile} is not a readable (unencrypted) PEM private key (${message})`;
  return `cannot use certificate ${s.certFile} with key ${s.keyFile}: ${message}`;
}

export type ReloadResult = { readonly ok: true; readonly notAfter: string } | { readonly ok: false; readonly reason: string };

/** The live credentials of one listener. */
export class TlsCredentials {
  private material: TlsMaterial;
  private secure: SecureContext;
  private readonly listeners: (() => void)[] = [];

  constructor(readonly settings: TlsSettings) {
    const m = loadTlsMaterial(settings);
    if (Array.isArray(m)) throw new Error(m.join('; '));
    this.material = m;
    this.secure = this.build(m);
  }

  get context(): SecureContext {
    return this.secure;
  }

  get notAfter(): string {
    return this.material.notAfter;
  }

  /** The CA bundle for verifying peers (undefined: Node's default roots). */
  get ca(): Buffer | undefined {
    return this.material.ca;
  }

  /** What a TLS server's context is made of (for `setSecureContext` after a reload). */
  get contextOptions(): SecureContextOptions {
    const m = this.material;
    return { cert: m.cert, key: m.key, minVersion: this.settings.minVersion, ...(m.ca !== undefined ? { ca: m.ca } : {}) };
  }

  private build(m: TlsMaterial): SecureContext {
    return createSecureContext({ cert: m.cert, key: m.key, minVersion: this.settings.minVersion, ...(m.ca !== undefined ? { ca: m.ca } : {}) });
  }

  /** Called after each successful reload (servers swap their context then). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** Re-reads the files; on any problem the current context stays. */
  reload(): ReloadResult {
    const m = loadTlsMaterial(this.settings);
    if (Array.isArray(m)) return { ok: false, reason: m.join('; ') };
    this.material = m;
    this.secure = this.build(m);
    for (const fn of this.listeners) fn();
    return { ok: true, notAfter: m.notAfter };
  }
}
