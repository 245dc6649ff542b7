/**
 * The fixture corpus (fixtures/sip/): messages shaped like what carriers,
 * proxies, softphones and agents really send parse, keep their header order
 * and spelling, and serialise back to the same bytes (RFC 3261 §7).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../src/sip-server/message/parser.js';
import { serialize } from '../../../src/sip-server/message/sip-message.js';

const dir = resolve(import.meta.dirname, '../../../fixtures/sip');
const load = (name: string): Buffer => Buffer.from(readFileSync(join(dir, name), 'utf8').replace(/\r?\n/g, '\r\n'), 'utf8');

describe('fixture corpus', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.sip')))('%s parses and serialises back to the same bytes', (name) => {
    const bytes = load(name);
    const r = parseMessage(bytes);
    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    if (!r.ok) return;
    expect(serialize(r.message).equals(bytes)).toBe(true);
  });

  it('a carrier INVITE: identity headers, Record-Route and SDP as sent', () => {
    const r = parseMessage(load('carrier-invite.sip'));
    if (!r.ok || r.message.kind !== 'request') throw new Error('not a request');
    expect(r.info).toMatchObject({ callId: '7a1c0e5e-2c1d-4b9a-8d3f-1e2d3c4b5a69@198.51.100.7', cseq: 102, cseqMethod: 'INVITE', fromTag: '3f2a9c81', toTag: undefined });
    expect(r.message.headers.entries('record-route')).toEqual(['<sip:198.51.100.7;lr;ftag=3f2a9c81>']);
    expect(r.message.headers.entries('supported')).toEqual(['timer', '100rel', 'replaces']);
    expect(r.message.body.toString()).toMatch(/^v=0\r\n.*a=sendrecv\r\n$/s);
  });

  it('a proxied INVITE in compact form: both Vias of one field, the top one over TCP', () => {
    const r = parseMessage(load('proxied-invite-tcp.sip'));
    if (!r.ok) throw new Error(r.reason);
    expect(r.info.via).toMatchObject({ transport: 'TCP', host: '10.0.0.5', branch: 'z9hG4bKcydzigwkX' });
    expect(r.message.headers.entries('via')).toHaveLength(2);
    expect(r.message.headers.get('call-id')).toBe('1j9FpLxk3uxtm8tn@biloxi.example.com');
  });

  it('an IPv6 REGISTER: bracketed sent-by, expires on the Contact', () => {
    const r = parseMessage(load('register-digest.sip'));
    if (!r.ok) throw new Error(r.reason);
    expect(r.info.via).toMatchObject({ host: '2001:db8::10', port: 5062 });
    expect(r.message.headers.get('contact')).toContain(';expires=3600');
  });
});
