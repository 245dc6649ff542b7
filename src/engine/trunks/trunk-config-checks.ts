/**
 * Configuration checks of trunks, reserved data and data parameters: every
 * reference resolves (a trunk's header mapping, a mapping's properties, an
 * attestation queue, a data parameter's metadata field), every source block
 * parses, no two trunks claim the same source, and no configured header name
 * could overwrite a header the B2BUA itself must control (Via, From, Call-ID,
 * ..., or one of ours). The schema already checked the shapes; these checks
 * need more than one value at a time. Every problem is reported at once.
 */
import { isIP } from 'node:net';
import { forEachItem, type ConfigCheck, type SwitchboardConfig } from '../../config/load.js';
import { RESERVED_PROPERTIES, SESSION_METADATA_FIELDS } from '../../config/schema/reserved-data.js';
import type { ConfigProblem } from '../../errors.js';
import { TOKEN } from '../reserved/header-text.js';
import { canonicalIdentity } from './inbound-trunks.js';
import { parseCidr } from './ip-address.js';

/**
 * Headers a configured name may not be: the dialog and transaction headers
 * (RFC 3261 §8.1.1), the body's, authentication, extensions the SIP server
 * negotiates, identity (RFC 3325: asserting one is not data), and the
 * engine's own. Compact forms (§7.3.3) are the same headers.
 */
const CONTROLLED = new Set([
  'via', 'from', 'to', 'call-id', 'cseq', 'contact', 'max-forwards', 'route', 'record-route', 'path',
  'content-length', 'content-type', 'content-encoding', 'content-disposition', 'content-language', 'mime-version',
  'authorization', 'proxy-authorization', 'www-authenticate', 'proxy-authenticate', 'authentication-info',
  'require', 'proxy-require', 'supported', 'unsupported', 'allow', 'accept', 'rseq', 'rack', 'session-expires', 'min-se',
  'event', 'refer-to', 'referred-by', 'replaces', 'p-asserted-identity', 'p-preferred-identity', 'privacy', 'identity',
  'x-switchboard-call', 'x-switchboard-queue', 'x-switchboard-monitor', 'x-switchboard-tls-identity',
  'i', 'm', 'e', 'l', 'c', 'f', 's', 'k', 't', 'v', 'r', 'b', 'o', 'u', 'x', 'y', 'a', 'j', 'd',
]);

function controlled(name: string): boolean {
  return CONTROLLED.has(name.toLowerCase());
}

const isProperty = (p: string): boolean => (RESERVED_PROPERTIES as readonly string[]).includes(p);

/**
 * A source's certificate identity: a domain or an address (RFC 5922 §7.2 matches names whole), on
 * a transport that has certificates, told to the engine by the embedded SIP server only (a real
 * drachtio-server neither tells nor removes a forged X-Switchboard-TLS-Identity), from a listener
 * that verifies client certificates.
 */
function tlsIdentityProblems(config: SwitchboardConfig, at: string, identity: string, transport: string | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (identity.includes(':') && isIP(identity) !== 6) problems.push({ path: `${at}.tlsIdentity`, message: `"${identity}" is not a domain name or an IP address (write the domain alone, without sip: or a port)` });
  if (identity.startsWith('.') || identity.endsWith('.') || identity.includes('..')) problems.push({ path: `${at}.tlsIdentity`, message: `"${identity}" is not a domain name (a name is matched whole: no leading, trailing or double dots)` });
  if (transport === 'udp' || transport === 'tcp') problems.push({ path: `${at}.transport`, message: `a ${transport} connection has no certificate: a source with a tlsIdentity is tls (TLS and secure WebSocket) or any transport` });
  if (!config.sipServer.embedded || config.drachtio.host !== undefined || config.drachtio.port !== undefined) {
    problems.push({ path: `${at}.tlsIdentity`, message: 'needs the engine connected to its embedded SIP server (sipServer.embedded true, drachtio.host and drachtio.port unset): a drachtio-server does not tell the app the verified certificate of a connection' });
  } else if (!config.sipServer.listen.some((l) => (l.transport === 'tls' || l.transport === 'wss') && l.tls !== undefined && l.tls.verifyClient !== 'off')) {
    problems.push({ path: `${at}.tlsIdentity`, message: 'no sipServer.listen entry (tls or wss) asks for client certificates: set tls.verifyClient to optional or required, with its caFile' });
  }
  return problems;
}

function checkTrunks(config: SwitchboardConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const mappings = new Set(config.reservedData.headerMappings.map((m) => m.id));
  const ids = new Map<string, string>();
  config.trunks.outbound.forEach((t, i) => ids.set(t.id, `trunks.outbound[${i}]`));
  const rules = new Map<string, string>();
  forEachItem(config.trunks.inbound, (t, i) => {
    const at = `trunks.inbound[${i}]`;
    const other = ids.get(t.id);
    if (other !== undefined) problems.push({ path: `${at}.id`, message: `trunk id "${t.id}" is already used by ${other}; call records name trunks by id` });
    else ids.set(t.id, at);
    forEachItem(t.sources, (s, j) => {
      if (s.address === undefined && s.tlsIdentity === undefined) {
        problems.push({ path: `${at}.sources[${j}]`, message: 'a source needs an address, a tlsIdentity, or both' });
        return;
      }
      const block = s.address === undefined ? undefined : parseCidr(s.address);
      if (typeof block === 'string') {
        problems.push({ path: `${at}.sources[${j}].address`, message: block });
        return;
      }
      if (s.transport === 'ws' || s.transport === 'wss') {
        problems.push({ path: `${at}.sources[${j}].transport`, message: `the SIP server tells apps a WebSocket request's transport as drachtio-server does (ws as tcp, wss as tls): write ${s.transport === 'ws' ? 'tcp' : 'tls'}` });
      }
      if (s.tlsIdentity !== undefined) problems.push(...tlsIdentityProblems(config, `${at}.sources[${j}]`, s.tlsIdentity, s.transport));
      const where = block === undefined ? 'any' : `${block.family}/${block.base}/${block.prefix}`;
      const key = `${where}/${s.port ?? '*'}/${s.transport ?? '*'}/${s.tlsIdentity !== undefined ? canonicalIdentity(s.tlsIdentity) : '*'}`;
      const owner = rules.get(key);
      if (owner !== undefined) problems.push({ path: `${at}.sources[${j}]`, message: `the same source as ${owner}: a source must identify one trunk` });
      else rules.set(key, `${at}.sources[${j}] (trunk "${t.id}")`);
    });
    if (t.headerMapping !== undefined && !mappings.has(t.headerMapping)) {
      problems.push({ path: `${at}.headerMapping`, message: `no header mapping "${t.headerMapping}" (reservedData.headerMappings[].id: ${[...mappings].join(', ') || 'none defined'})` });
    }
    if (t.headerMapping !== undefined && !t.trusted) {
      problems.push({ path: `${at}.headerMapping`, message: 'an untrusted trunk\'s headers are never read: set trusted: true, or remove the mapping' });
    }
    if (t.limits.burst !== undefined && t.limits.callsPerSecond === undefined) {
      problems.push({ path: `${at}.limits.burst`, message: 'burst needs callsPerSecond (it is the size of the rate limit\'s bucket)' });
    }
  });
  return problems;
}

function checkMappings(config: SwitchboardConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  config.reservedData.headerMappings.forEach((m, i) => {
    const at = `reservedData.headerMappings[${i}]`;
    if (seen.has(m.id)) problems.push({ path: `${at}.id`, message: `mapping id "${m.id}" is defined twice` });
    seen.add(m.id);
    const names = new Set<string>();
    m.headers.forEach((h, j) => {
      const hp = `${at}.headers[${j}]`;
      const lower = h.name.toLowerCase();
      if (names.has(lower)) problems.push({ path: `${hp}.name`, message: `header ${h.name} is read twice by this mapping` });
      names.add(lower);
      if (controlled(h.name)) problems.push({ path: `${hp}.name`, message: `${h.name} is a SIP header with its own meaning, not reserved data` });
      if (h.format === 'boolean') {
        if (h.property === undefined) problems.push({ path: `${hp}.property`, message: 'format boolean needs the property the header sets' });
        if (h.parameters !== undefined) problems.push({ path: `${hp}.parameters`, message: 'only formats parameters and uui have parameter names' });
      } else {
        if (h.property !== undefined) problems.push({ path: `${hp}.property`, message: `format ${h.format} names its properties in parameters, not property` });
        for (const [name, p] of Object.entries(h.parameters ?? {})) {
          if (!TOKEN.test(name)) problems.push({ path: `${hp}.parameters`, message: `parameter name ${JSON.stringify(name)} is not a token` });
          if (!isProperty(p)) problems.push({ path: `${hp}.parameters.${name}`, message: `unknown property "${p}" (one of ${RESERVED_PROPERTIES.join(', ')})` });
        }
      }
      if (h.format !== 'uui') {
        for (const k of ['encoding', 'purpose', 'discriminator'] as const) {
          if (h[k] !== undefined) problems.push({ path: `${hp}.${k}`, message: `${k} applies to format uui only` });
        }
      }
    });
  });
  return problems;
}

function checkAgentLeg(config: SwitchboardConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const leg = config.reservedData.agentLeg;
  const used = new Map<string, string>();
  const use = (name: string, path: string): void => {
    if (controlled(name)) problems.push({ path, message: `${name} is a SIP header the engine controls; choose another name (X-...)` });
    const other = used.get(name.toLowerCase());
    if (other !== undefined) problems.push({ path, message: `${name} is already used by ${other}` });
    used.set(name.toLowerCase(), path);
  };
  if (leg.flagsHeader !== undefined) use(leg.flagsHeader, 'reservedData.agentLeg.flagsHeader');
  if (leg.attestationHeader !== undefined) use(leg.attestationHeader, 'reservedData.agentLeg.attestationHeader');
  for (const [p, name] of Object.entries(leg.valueHeaders ?? {})) {
    if (!isProperty(p)) problems.push({ path: `reservedData.agentLeg.valueHeaders.${p}`, message: `unknown property "${p}" (one of ${RESERVED_PROPERTIES.join(', ')})` });
    use(name, `reservedData.agentLeg.valueHeaders.${p}`);
  }
  leg.passHeaders.forEach((name, i) => use(name, `reservedData.agentLeg.passHeaders[${i}]`));
  const q = config.reservedData.attestation.failedQueue;
  if (q !== undefined && !config.queues.some((x) => x.id === q)) {
    problems.push({ path: 'reservedData.attestation.failedQueue', message: `no queue "${q}"` });
  }
  return problems;
}

function checkDataParameters(config: SwitchboardConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const fields = new Set<string>();
  config.redirection.sip.data_parameters.forEach((d, i) => {
    const at = `redirection.sip.data_parameters[${i}]`;
    if (controlled(d.field)) problems.push({ path: `${at}.field`, message: `${d.field} is a SIP header the engine controls; a data parameter cannot set it` });
    if (fields.has(d.field.toLowerCase())) problems.push({ path: `${at}.field`, message: `header ${d.field} is set by another data parameter` });
    fields.add(d.field.toLowerCase());
    if (d.type === 'static') {
      if (d.value === undefined) problems.push({ path: `${at}.value`, message: 'type static needs a value' });
      if (d.source !== undefined || d.source_field !== undefined) problems.push({ path: `${at}.source`, message: 'type static takes value, not source/source_field' });
      return;
    }
    if (d.value !== undefined) problems.push({ path: `${at}.value`, message: 'type dynamic reads source/source_field; value is for type static' });
    if (d.source === undefined) problems.push({ path: `${at}.source`, message: 'type dynamic needs a source (session_metadata or sip_header)' });
    if (d.source_field === undefined) {
      problems.push({ path: `${at}.source_field`, message: 'type dynamic needs a source_field' });
      return;
    }
    if (d.source === 'session_metadata' && !(SESSION_METADATA_FIELDS as readonly string[]).includes(d.source_field)) {
      problems.push({ path: `${at}.source_field`, message: `unknown metadata field "${d.source_field}" (one of ${SESSION_METADATA_FIELDS.join(', ')})` });
    }
    if (d.source === 'sip_header' && !TOKEN.test(d.source_field)) {
      problems.push({ path: `${at}.source_field`, message: `${JSON.stringify(d.source_field)} is not a header name (an RFC 3261 token)` });
    } else if (d.source === 'sip_header' && d.source_field.toLowerCase().startsWith('x-switchboard-')) {
      problems.push({ path: `${at}.source_field`, message: `${d.source_field} is the engine's own header, not the caller's` });
    }
  });
  return problems;
}

export const trunkConfigChecks: readonly ConfigCheck[] = [
  { name: 'inbound trunks', sections: ['trunks', 'reservedData'], check: checkTrunks },
  { name: 'reserved data header mappings', sections: ['reservedData'], check: checkMappings },
  { name: 'reserved data on the agent leg', sections: ['reservedData', 'queues'], check: checkAgentLeg },
  { name: 'data parameters', sections: ['redirection'], check: checkDataParameters },
];
