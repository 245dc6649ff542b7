/**
 * The caller's STIR/SHAKEN verification result as a terminating carrier
 * passes it on: the `verstat` tel URI parameter (ATIS-1000074 §5.3.1, 3GPP
 * TS 24.229 §7.2A.20; the verification itself is RFC 8224 §6.2) on the
 * P-Asserted-Identity (RFC 3325) or, failing that, the From. In a SIP URI the
 * tel parameters sit in the user part (`sip:+15551234567;verstat=...@host;
 * user=phone`); some carriers put it among the URI parameters instead, so
 * both are read. Values: TN-Validation-Passed, TN-Validation-Failed,
 * No-TN-Validation (compared case-insensitively); anything else, or two
 * identities that disagree, gives no attestation.
 */
import { describeValue, splitOutside } from './header-text.js';

export type CallerAttestation = 'passed' | 'failed' | 'no-validation';

const VALUES: Readonly<Record<string, CallerAttestation>> = {
  'tn-validation-passed': 'passed',
  'tn-validation-failed': 'failed',
  'no-tn-validation': 'no-validation',
};

export interface AttestationReading {
  readonly value: CallerAttestation | undefined;
  /** Which header it came from. */
  readonly header: string | undefined;
  readonly problem: string | undefined;
}

/** Every verstat parameter of one header's identities (an identity list is comma-separated, RFC 3325 §9.1). */
function verstats(lines: readonly string[]): string[] {
  const found: string[] = [];
  for (const line of lines) {
    for (const identity of splitOutside(line, ',')) {
      // Only a URI in <> carries URI parameters: without them, ";verstat" would be a header parameter (RFC 3261 §20.10).
      const uri = /<([^>]*)>/.exec(identity)?.[1] ?? '';
      for (const m of uri.matchAll(/;[ \t]*verstat[ \t]*=[ \t]*([^;@?> \t]*)/gi)) found.push(m[1]!);
    }
  }
  return found;
}

function readHeader(name: string, lines: readonly string[]): AttestationReading | undefined {
  const raw = verstats(lines);
  if (raw.length === 0) return undefined;
  const mapped = raw.map((r) => VALUES[r.toLowerCase()]);
  const unknown = raw.find((_, i) => mapped[i] === undefined);
  if (unknown !== undefined) return { value: undefined, header: name, problem: `unknown verstat ${describeValue(unknown)} in ${name}` };
  if (mapped.some((m) => m !== mapped[0])) return { value: undefined, header: name, problem: `conflicting verstat values in ${name}` };
  return { value: mapped[0], header: name, problem: undefined };
}

/** The attestation of a call whose P-Asserted-Identity and From lines are given. */
export function attestationOf(pai: readonly string[], from: readonly string[]): AttestationReading {
  return readHeader('P-Asserted-Identity', pai) ?? readHeader('From', from) ?? { value: undefined, header: undefined, problem: undefined };
}
