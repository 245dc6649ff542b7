/**
 * sipsak (Debian's `sipsak`), the SIP swiss army knife: one bounded run per
 * call, its exit code and output returned. Exit code 0 means a 2xx final
 * response arrived (sipsak's convention; 3 means no answer).
 */
import { execFile } from 'node:child_process';

export interface SipsakResult {
  readonly code: number;
  readonly output: string;
}

export function sipsak(args: readonly string[], timeoutMs = 15_000): Promise<SipsakResult> {
  return new Promise((resolve) => {
    execFile('sipsak', [...args], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}
