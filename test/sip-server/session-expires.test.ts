/**
 * RFC 4028 §4, §5, §9 and §10 as pure functions: the Session-Expires and
 * Min-SE grammar, the UAS's choice of interval and refresher, the fields of
 * its 2xx, and the non-refresher's margin before expiry.
 */
import { describe, expect, it } from 'vitest';
import { SipHeaders, type HeaderField } from '../../src/sip-server/message/sip-message.js';
import { headerKey } from '../../src/sip-server/message/header-names.js';
import {
  decideAsUas,
  expiryMarginMs,
  parseMinSE,
  parseSessionExpires,
  uasResponseFields,
  withSupportedTimer,
} from '../../src/sip-server/core/session-expires.js';

const headers = (...lines: string[]): SipHeaders =>
  new SipHeaders(
    lines.map((l) => {
      const i = l.indexOf(':');
      const name = l.slice(0, i).trim();
      return { name, key: headerKey(name), value: l.slice(i + 1).trim() };
    }),
  );

describe('Session-Expires and Min-SE (RFC 4028 §4, §5)', () => {
  it.each([
    ['Session-Expires: 1800', { seconds: 1800, refresher: undefined }],
    ['Session-Expires: 1800;refresher=uac', { seconds: 1800, refresher: 'uac' }],
    ['x: 90 ; refresher = UAS', { seconds: 90, refresher: 'uas' }],
    ['Session-Expires: 4000;x-other=1;refresher=uas', { seconds: 4000, refresher: 'uas' }],
  ])('%s', (line, want) => {
    expect(parseSessionExpires(headers(line))).toEqual(want);
  });

  it.each(['Session-Expires: soon', 'Session-Expires: -5', 'Session-Expires: 1800;refresher=both', 'Session-Expires: 99999999999', 'Session-Expires: 1800;refresher'])(
    '%s is malformed',
    (line) => {
      expect(parseSessionExpires(headers(line))).toBe('malformed');
    },
  );

  it('two Session-Expires fields are malformed; none is absent', () => {
    expect(parseSessionExpires(headers('Session-Expires: 90', 'Session-Expires: 120'))).toBe('malformed');
    expect(parseSessionExpires(headers('Supported: timer'))).toBeUndefined();
  });

  it('Min-SE: a number (parameters allowed), else malformed', () => {
    expect(parseMinSE(headers('Min-SE: 90'))).toBe(90);
    expect(parseMinSE(headers('Min-SE: 120;x=1'))).toBe(120);
    expect(parseMinSE(headers('Min-SE: ninety'))).toBe('malformed');
    expect(parseMinSE(headers('To: <sip:a@b>'))).toBeUndefined();
  });
});

describe('the UAS’s choice (RFC 4028 §9)', () => {
  it('keeps the requested interval and refresher', () => {
    expect(decideAsUas(headers('Supported: timer', 'Session-Expires: 600;refresher=uas'), 1800, undefined)).toEqual({ seconds: 600, refresher: 'uas', peerMinSE: 0 });
  });

  it('a UAC supporting timers without naming a refresher is asked to refresh; Require: timer then goes in the 2xx', () => {
    const d = decideAsUas(headers('Supported: 100rel, timer', 'Session-Expires: 600'), 1800, undefined);
    expect(d.refresher).toBe('uac');
    expect(uasResponseFields(d).map((f) => `${f.name}: ${f.value}`)).toEqual(['Session-Expires: 600;refresher=uac', 'Require: timer']);
  });

  it('a UAC without timer support (a proxy inserted Session-Expires, or none at all): we refresh, default interval not below its Min-SE', () => {
    expect(decideAsUas(headers('Session-Expires: 600'), 1800, undefined).refresher).toBe('uas');
    expect(decideAsUas(headers('Min-SE: 3600'), 1800, undefined)).toEqual({ seconds: 3600, refresher: 'uas', peerMinSE: 3600 });
    expect(uasResponseFields(decideAsUas(headers(), 1800, undefined)).map((f) => f.value)).toEqual(['1800;refresher=uas']);
  });

  it('a refresh that names no refresher keeps the current one', () => {
    expect(decideAsUas(headers('Supported: timer', 'Session-Expires: 600'), 1800, 'uas').refresher).toBe('uas');
  });
});

describe('timing and Supported (RFC 4028 §10, §7.1)', () => {
  it('the non-refresher ends the session min(32 s, interval/3) early', () => {
    expect(expiryMarginMs(1800)).toBe(32_000);
    expect(expiryMarginMs(90)).toBe(30_000);
    expect(expiryMarginMs(3)).toBe(1000);
  });

  it('timer joins an existing Supported field once, or gets one of its own', () => {
    const a: HeaderField[] = [{ name: 'Supported', key: 'supported', value: '100rel' }];
    withSupportedTimer(a);
    withSupportedTimer(a);
    expect(a.map((f) => f.value)).toEqual(['100rel, timer']);
    const b: HeaderField[] = [];
    withSupportedTimer(b);
    expect(b).toEqual([{ name: 'Supported', key: 'supported', value: 'timer' }]);
  });
});
