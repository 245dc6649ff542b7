/**
 * Test certificates made at test time with the `openssl` command (Debian's
 * OpenSSL 3): a private CA, certificates it issues (with chosen subject
 * alternative names, validity dates, for servers or clients), self-signed
 * ones, and keys that belong to nothing. Everything lives in a temp folder
 * removed by `cleanup()`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  readonly cn: string;
  /** subjectAltName entries in OpenSSL syntax: `DNS:localhost`, `IP:127.0.0.1`, `URI:sip:example.com`. */
  readonly san?: readonly string[];
  /** `YYYYMMDDHHMMSSZ`; both given: fixed dates (an expired certificate). */
  readonly notBefore?: string;
  readonly notAfter?: string;
}

export class TestPki {
  private serial = 1;

  private constructor(
    readonly dir: string,
    readonly ca: CertFiles,
  ) {}

  /** A fresh folder with a CA named `name`. */
  static async create(name = 'Switchboard Test CA'): Promise<TestPki> {
    const dir = mkdtempSync(join(tmpdir(), 'sb-pki-'));
    const ca = { cert: join(dir, 'ca.pem'), key: join(dir, 'ca.key') };
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', ca.key, '-out', ca.cert, '-subj', `/CN=${name}`, '-days', '30',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'ca.cnf'), caConfig(dir));
    return new TestPki(dir, ca);
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  /** A key and certificate signed by this CA. */
  async issue(name: string, o: IssueOptions): Promise<CertFiles> {
    const out = { cert: this.file(`${name}.pem`), key: this.file(`${name}.key`) };
    const csr = this.file(`${name}.csr`);
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', out.key, '-out', csr, '-subj', `/CN=${o.cn}`]);
    const ext = this.file(`${name}.ext`);
    writeFileSync(ext, extensions(o.san));
    writeFileSync(this.file('serial'), `${(this.serial++).toString(16).padStart(4, '0')}\n`);
    const dates = o.notBefore !== undefined && o.notAfter !== undefined ? ['-startdate', o.notBefore, '-enddate', o.notAfter] : ['-days', '30'];
    await run('openssl', ['ca', '-batch', '-notext', '-config', this.file('ca.cnf'), '-cert', this.ca.cert, '-keyfile', this.ca.key, '-in', csr, '-out', out.cert, '-extfile', ext, ...dates]);
    return out;
  }

  /** A self-signed certificate (no CA vouches for it). */
  async selfSigned(name: string, o: IssueOptions): Promise<CertFiles> {
    const out = { cert: this.file(`${name}.pem`), key: this.file(`${name}.key`) };
    const san = o.san !== undefined && o.san.length > 0 ? ['-addext', `subjectAltName=${o.san.join(',')}`] : [];
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', out.key, '-out', out.cert, '-subj', `/CN=${o.cn}`, '-days', '30', ...san]);
    return out;
  }

  /** A private key that belongs to no certificate here. */
  async strayKey(name: string): Promise<string> {
    const key = this.file(`${name}.key`);
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', key]);
    return key;
  }

  /** The certificate's SHA-256 fingerprint as Node prints it (`AB:CD:…`). */
  static async fingerprint(certFile: string): Promise<string> {
    const { stdout } = await run('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256']);
    return stdout.trim().replace(/^.*=/, '');
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function extensions(san: readonly string[] | undefined): string {
  const lines = ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth'];
  if (san !== undefined && san.length > 0) lines.push(`subjectAltName=${san.join(',')}`);
  return `${lines.join('\n')}\n`;
}

function caConfig(dir: string): string {
  return [
    '[ ca ]',
    'default_ca = test_ca',
    '[ test_ca ]',
    `database = ${join(dir, 'index.txt')}`,
    `new_certs_dir = ${dir}`,
    `serial = ${join(dir, 'serial')}`,
    'default_md = sha256',
    'policy = any_name',
    'unique_subject = no',
    '[ any_name ]',
    'commonName = supplied',
    '',
  ].join('\n');
}
