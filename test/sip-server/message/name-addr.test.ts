/** name-addr and addr-spec in From, To, Contact, Route (RFC 3261 §20.10, §20.20, §20.39, §25.1). */
import { describe, expect, it } from 'vitest';
import { formatNameAddr, parseHeaderParams, parseNameAddr, splitList, splitListStrict, tagOf, withTag } from '../../../src/sip-server/message/name-addr.js';
import { parseSipUri } from '../../../src/sip-server/message/uri.js';

describe('who owns a parameter: the URI inside <>, the header outside (RFC 3261 §20.10)', () => {
  it.each([
    // value, URI, header params
    ['<sip:desk@example.org;transport=tcp>;tag=abc', 'sip:desk@example.org;transport=tcp', [['tag', 'abc']]],
    ['sip:desk@example.org;tag=abc', 'sip:desk@example.org', [['tag', 'abc']]],
    ['sip:desk@example.org;transport=tcp;expires=60', 'sip:desk@example.org', [['transport', 'tcp'], ['expires', '60']]],
    ['<sip:desk@example.org;expires=1>;expires=2', 'sip:desk@example.org;expires=1', [['expires', '2']]],
    ['tel:+15555550123;tag=x', 'tel:+15555550123', [['tag', 'x']]],
    ['<tel:+15555550123;phone-context=example.org>', 'tel:+15555550123;phone-context=example.org', []],
    ['<sip:[2001:db8::1]:5070;lr>;q=0.7;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000000000001>"', 'sip:[2001:db8::1]:5070;lr', [['q', '0.7'], ['+sip.instance', '"<urn:uuid:00000000-0000-1000-8000-000000000001>"']]],
  ])('%s', (value, uri, params) => {
    const na = parseNameAddr(value);
    expect(na?.uri).toBe(uri);
    expect([...na!.params]).toEqual(params);
  });

  it('a URI with a ";" in its user part must be bracketed: unbracketed, the rest is a bad header parameter (§20.10)', () => {
    expect(parseNameAddr('<sip:desk;unit=7@example.org>;tag=1')?.uri).toBe('sip:desk;unit=7@example.org');
    expect(parseSipUri(parseNameAddr('<sip:desk;unit=7@example.org>')!.uri)?.user).toBe('desk;unit=7');
    expect(parseNameAddr('sip:desk;unit=7@example.org')).toBeUndefined();
  });

  it.each(['sip:desk@example.org?Subject=x', 'sip:de,sk@example.org', 'sip:desk@example.org ;tag=x y'])(
    'an unbracketed %s with "?", "," or stray text is refused (§20.10)',
    (value) => {
      expect(parseNameAddr(value)).toBeUndefined();
    },
  );
});

describe('display names (RFC 3261 §25.1 display-name = *(token LWS) / quoted-string)', () => {
  it.each([
    ['"Front Desk" <sip:desk@example.org>', 'Front Desk'],
    ['Front Desk <sip:desk@example.org>', 'Front Desk'],
    ['Desk<sip:desk@example.org>', 'Desk'],
    ['"" <sip:desk@example.org>', ''],
    ['"Say \\"hi\\" \\\\ there" <sip:desk@example.org>', 'Say "hi" \\ there'],
    ['"Doe, Jane; MD <x>" <sip:jane@example.org>', 'Doe, Jane; MD <x>'],
    ['"café ☎"<sip:desk@example.org>', 'café ☎'],
    ['<sip:desk@example.org>', undefined],
  ])('%s has display name %j', (value, name) => {
    expect(parseNameAddr(value)?.displayName).toBe(name);
  });

  it.each([
    '"Unterminated <sip:desk@example.org>',
    '"Ends with backslash\\" <sip:desk@example.org>',
    'Doe, Jane <sip:jane@example.org>',
    'J@ne <sip:jane@example.org>',
    '"Quoted" trailing <sip:desk@example.org>',
    '"Quoted"',
    '<sip:desk@example.org',
    '< sip:desk@example.org>',
    '<sip:desk@example.org >',
    '<>',
    '<not a uri>',
    '<sip:desk@example.org> junk',
    '<sip:desk@example.org>;;tag=1',
    '<sip:desk@example.org>;tag="unterminated',
  ])('%s is refused', (value) => {
    expect(parseNameAddr(value)).toBeUndefined();
  });

  it('a display name that needs quotes gets them when formatted, and survives a round trip', () => {
    for (const name of ['Front Desk', 'Doe, Jane', 'Say "hi"', 'back\\slash', 'café']) {
      const text = formatNameAddr({ displayName: name, uri: 'sip:a@example.org', params: new Map([['tag', 'x']]), bracketed: true });
      const back = parseNameAddr(text);
      expect(back?.displayName).toBe(name);
      expect(back?.params.get('tag')).toBe('x');
    }
  });
});

describe('header parameters (RFC 3261 §25.1 generic-param = token [ EQUAL gen-value ])', () => {
  it('LWS around ";" and "=" is allowed', () => {
    expect([...parseHeaderParams(' ;  tag = abc ;lr; q =0.5')!]).toEqual([
      ['tag', 'abc'],
      ['lr', null],
      ['q', '0.5'],
    ]);
  });

  it.each([';', ';=x', ';tag=', 'tag=x', ';t a g=x', ';tag=a b', ';x="open'])('%j is refused', (text) => {
    expect(parseHeaderParams(text)).toBeUndefined();
  });
});

describe('tags (RFC 3261 §19.3)', () => {
  it.each([
    ['<sip:a@example.org>;tag=abc', 'abc'],
    ['<sip:a@example.org>;TAG=abc;other=1', 'abc'],
    ['sip:a@example.org;tag=abc', 'abc'],
    ['"x;tag=no" <sip:a@example.org;tag=uri-param>', undefined],
    ['<sip:a@example.org> ; tag = spaced', 'spaced'],
    ['<sip:a@example.org>', undefined],
  ])('%s has tag %j', (value, tag) => {
    expect(tagOf(value)).toBe(tag);
  });

  it('withTag adds a tag, or replaces an existing one keeping the rest', () => {
    expect(withTag('<sip:a@example.org>', 'n1')).toBe('<sip:a@example.org>;tag=n1');
    expect(tagOf(withTag('"A" <sip:a@example.org>;tag=old;x=1', 'n2'))).toBe('n2');
    expect(parseNameAddr(withTag('"A" <sip:a@example.org>;tag=old;x=1', 'n2'))?.params.get('x')).toBe('1');
  });
});

describe('list splitting (RFC 3261 §7.3.1)', () => {
  it('commas inside quotes or angle brackets do not split', () => {
    expect(splitList('"a, b" <sip:x@example.org>, <sip:y@example.org;m="1,2">')).toEqual(['"a, b" <sip:x@example.org>', '<sip:y@example.org;m="1,2">']);
  });

  it('the strict split refuses empty elements (extraneous separators, RFC 4475 §3.1.2.1), the lenient one skips them', () => {
    expect(splitListStrict('<sip:a@x>, ,<sip:b@x>')).toBeUndefined();
    expect(splitListStrict('<sip:a@x>,')).toBeUndefined();
    expect(splitListStrict('')).toBeUndefined();
    expect(splitList('<sip:a@x>, ,<sip:b@x>,')).toEqual(['<sip:a@x>', '<sip:b@x>']);
  });
});
