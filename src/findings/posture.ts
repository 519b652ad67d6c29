/**
 * Sender posture (#14 item 5, `--check-dns`, never by default): the DNS records a receiver checks
 * before it refuses a sender, looked up for the sender domains and sending IPs behind
 * `sender_auth_failed`, `reverse_dns_failed` and `sender_address_invalid` refusals.
 *
 * Per domain: SPF (RFC 7208), DMARC (RFC 7489), MX (RFC 5321 5.1, null MX RFC 7505). Per IP: PTR
 * and its forward confirmation (FCrDNS, RFC 8601 2.7.3 "iprev"). Uses node:dns/promises' Resolver
 * (c-ares: the system's /etc/resolv.conf servers, or `servers`), with a per-try timeout and a
 * probe first, so an offline machine answers "not checked" in a few seconds and never hangs.
 *
 * What the logs cannot give: the header From domain (MTAs do not log headers). The envelope sender
 * (`from=<>`, the app's sender) is what is checked, plus a domain the receiver's reply names as the
 * From domain (Gmail "Unauthenticated email from example.net", Exchange Online "sending domain
 * example.org"), which is the header From of DMARC refusals.
 */
import { createHash } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { SubtypeId } from '../classify/subtypes.js';
import type { RejectionEvent } from '../model/event.js';
import type { EvidenceLine, Finding, Severity } from './types.js';

/** The subtypes whose senders are checked. */
export const POSTURE_SUBTYPES: readonly SubtypeId[] = ['sender_auth_failed', 'reverse_dns_failed', 'sender_address_invalid'];

export type PostureStatus = 'ok' | 'missing' | 'misaligned' | 'not_checked';

/**
 * Why a lookup gave no records, or no answer. `nxdomain` (the name does not exist) and `nodata` (it
 * exists without that record) are answers: the record is `missing`. The others leave it `not_checked`:
 * `timeout` (no reply in time), `servfail` (the server failed), `refused` (the server would not
 * answer), `offline` (no server reachable: connection refused, no network), `private_address` (an
 * RFC 1918, loopback or link-local IP: no public PTR expected), `error` (anything else).
 */
export type LookupReason = 'nxdomain' | 'nodata' | 'timeout' | 'servfail' | 'refused' | 'offline' | 'private_address' | 'error';

export type PostureCheck = 'spf' | 'dmarc' | 'mx' | 'ptr';

/** Why a record is `misaligned` (present but not doing its job). */
export type PostureProblem =
  | 'spf_multiple_records'
  | 'spf_permissive_all'
  | 'spf_too_many_lookups'
  | 'dmarc_multiple_records'
  | 'dmarc_no_policy'
  | 'dmarc_policy_none'
  | 'null_mx'
  | 'ptr_not_confirmed';

export interface PostureResult {
  check: PostureCheck;
  /** The domain or IP checked. */
  subject: string;
  status: PostureStatus;
  /** Set when status is not `ok`: the lookup's answer (`missing`, `not_checked`). */
  reason: LookupReason | null;
  problem: PostureProblem | null;
  /** The name that was queried (`_dmarc.example.com`, `10.2.0.192.in-addr.arpa`). */
  queried: string;
  /** The records found (SPF/DMARC text, `10 mx.example.com`, PTR names). */
  records: string[];
  /** One line for people: what was found. */
  detail: string;
}

export interface DomainPosture {
  domain: string;
  spf: PostureResult;
  dmarc: PostureResult;
  mx: PostureResult;
}

export interface IpPosture {
  ip: string;
  ptr: PostureResult;
}

export interface PostureReport {
  /** False when nothing could be looked up (offline, every server silent): `reason` says why. */
  checked: boolean;
  reason: string | null;
  /** The servers asked (`system` for /etc/resolv.conf's). */
  servers: string[];
  domains: DomainPosture[];
  ips: IpPosture[];
  /** Targets beyond the caps, not looked up. */
  skipped: { domains: number; ips: number };
  elapsedMs: number;
}

/** The slice of node:dns/promises' Resolver the checks use (tests pass a fake). */
export interface PostureResolver {
  resolveTxt(name: string): Promise<string[][]>;
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolvePtr(name: string): Promise<string[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  cancel?(): void;
}

export interface PostureOptions {
  /** `--dns-server`: `ip` or `ip:port` (`[v6]:port`); default: the system's resolvers. */
  servers?: string[];
  /** Per-try timeout in ms (default 1500; two tries: a lost UDP packet is retried once). */
  timeoutMs?: number;
  /** Replaces the real resolver (tests). */
  resolver?: PostureResolver;
  /** Most domains and IPs looked up (default 50 each: a run's senders behind these subtypes are few). */
  maxTargets?: number;
}

export interface PostureTargets {
  senderDomains: string[];
  ips: string[];
}

// ---------------------------------------------------------------------------------------------
// Lookups

function reasonOf(err: unknown): LookupReason {
  const code = (err as { code?: string } | null)?.code;
  switch (code) {
    case 'ENOTFOUND':
      return 'nxdomain';
    case 'ENODATA':
      return 'nodata';
    case 'ETIMEOUT':
    case 'ECANCELLED':
      return 'timeout';
    case 'ESERVFAIL':
      return 'servfail';
    case 'EREFUSED':
      return 'refused';
    case 'ECONNREFUSED':
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'ENONAME':
      return 'offline';
    default:
      return 'error';
  }
}

const isAnswer = (r: LookupReason): boolean => r === 'nxdomain' || r === 'nodata';

const REASON_TEXT: Record<LookupReason, string> = {
  nxdomain: 'the name does not exist (NXDOMAIN)',
  nodata: 'no such record',
  timeout: 'no reply in time (timeout)',
  servfail: 'the DNS server failed (SERVFAIL)',
  refused: 'the DNS server refused the query (REFUSED)',
  offline: 'no DNS server reachable (connection refused or no network)',
  private_address: 'a private, loopback or link-local address (no public PTR expected)',
  error: 'the lookup failed',
};

type Lookup<T> = { ok: true; value: T } | { ok: false; reason: LookupReason };

async function lookup<T>(f: () => Promise<T>): Promise<Lookup<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (err) {
    return { ok: false, reason: reasonOf(err) };
  }
}

function result(check: PostureCheck, subject: string, queried: string, fields: Partial<PostureResult> & { status: PostureStatus; detail: string }): PostureResult {
  return { check, subject, queried, reason: null, problem: null, records: [], ...fields };
}

function failed(check: PostureCheck, subject: string, queried: string, reason: LookupReason, what: string): PostureResult {
  return isAnswer(reason)
    ? result(check, subject, queried, { status: 'missing', reason, detail: `no ${what} at ${queried}: ${REASON_TEXT[reason]}` })
    : result(check, subject, queried, { status: 'not_checked', reason, detail: `${what} not checked: ${REASON_TEXT[reason]}` });
}

/** TXT records of a name as whole strings (a record's character-strings joined, RFC 7208 3.3). */
const txtStrings = (chunks: string[][]): string[] => chunks.map((c) => c.join(''));

/** `v=spf1` alone or followed by a space (RFC 7208 4.5: `v=spf10` is not SPF). */
function isSpf(txt: string): boolean {
  const t = txt.trim().toLowerCase();
  return t === 'v=spf1' || t.startsWith('v=spf1 ');
}

/** SPF terms that cost a DNS lookup (RFC 7208 4.6.4: at most 10). */
const LOOKUP_TERMS = new Set(['include', 'a', 'mx', 'ptr', 'exists', 'redirect']);

export async function checkSpf(r: PostureResolver, domain: string): Promise<PostureResult> {
  const got = await lookup(() => r.resolveTxt(domain));
  if (!got.ok) return failed('spf', domain, domain, got.reason, 'SPF record (TXT v=spf1)');
  const spf = txtStrings(got.value).filter(isSpf);
  if (spf.length === 0) return result('spf', domain, domain, { status: 'missing', reason: 'nodata', detail: `no SPF record (TXT v=spf1) at ${domain}` });
  if (spf.length > 1) {
    return result('spf', domain, domain, { status: 'misaligned', problem: 'spf_multiple_records', records: spf, detail: `${spf.length} SPF records at ${domain}: receivers treat that as a permanent error (RFC 7208 4.5)` });
  }
  const record = spf[0]!;
  const terms = record.trim().toLowerCase().split(' ').filter((t) => t !== '').slice(1);
  const all = terms.find((t) => t === 'all' || (t.length === 4 && t.endsWith('all') && '+-~?'.includes(t[0]!)));
  if (all !== undefined && (all === 'all' || all === '+all' || all === '?all')) {
    return result('spf', domain, domain, {
      status: 'misaligned',
      problem: 'spf_permissive_all',
      records: [record],
      detail: `SPF at ${domain} ends in ${all}: ${all === '?all' ? 'neutral for every host, so it authorises nothing' : 'every host on the internet may send as this domain'}`,
    });
  }
  // Top-level terms only (not recursed into includes): an undercount, flagged only when already over.
  const lookups = terms.filter((t) => {
    const name = t.replace(/^[+\-~?]/, '').split(/[:=/]/, 1)[0]!;
    return LOOKUP_TERMS.has(name);
  }).length;
  if (lookups > 10) {
    return result('spf', domain, domain, { status: 'misaligned', problem: 'spf_too_many_lookups', records: [record], detail: `SPF at ${domain} needs ${lookups} DNS lookups before includes: over the limit of 10 (RFC 7208 4.6.4, permerror)` });
  }
  return result('spf', domain, domain, { status: 'ok', records: [record], detail: `SPF ${all ?? '(no all)'}` });
}

/**
 * The organisational domain, approximated as the last two labels (`mail.example.com` ->
 * `example.com`). Without the public suffix list this is wrong under multi-label suffixes
 * (`example.co.uk` -> `co.uk`), where the fallback then finds nothing: an extra lookup, no false ok.
 */
export function organisationalDomain(domain: string): string {
  const labels = domain.split('.');
  return labels.length <= 2 ? domain : labels.slice(-2).join('.');
}

/** DMARC tags (RFC 7489 6.3): `tag=value` pairs separated by `;`. */
function dmarcTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return tags;
}

const isDmarc = (txt: string): boolean => {
  const t = txt.trim();
  return t.startsWith('v=DMARC1') && (t.length === 8 || t[8] === ';' || t[8] === ' ');
};

export async function checkDmarc(r: PostureResolver, domain: string): Promise<PostureResult> {
  let name = `_dmarc.${domain}`;
  let got = await lookup(() => r.resolveTxt(name));
  const org = organisationalDomain(domain);
  let viaOrg = false;
  const none = (g: Lookup<string[][]>) => (g.ok ? txtStrings(g.value).filter(isDmarc).length === 0 : isAnswer(g.reason));
  if (org !== domain && none(got)) {
    // RFC 7489 6.6.3: no record at the domain -> the organisational domain's, its sp= for subdomains.
    const orgName = `_dmarc.${org}`;
    const fallback = await lookup(() => r.resolveTxt(orgName));
    if (!none(fallback)) {
      name = orgName;
      got = fallback;
      viaOrg = true;
    }
  }
  if (!got.ok) {
    const res = failed('dmarc', domain, name, got.reason, 'DMARC record (TXT v=DMARC1)');
    if (res.status === 'missing' && org !== domain) res.detail = `no DMARC record at _dmarc.${domain} nor at _dmarc.${org}`;
    return res;
  }
  const dmarc = txtStrings(got.value).filter(isDmarc);
  if (dmarc.length === 0) {
    const also = org !== domain && !viaOrg ? ` nor at _dmarc.${org}` : '';
    return result('dmarc', domain, name, { status: 'missing', reason: 'nodata', detail: `no DMARC record (TXT v=DMARC1) at ${name}${also}` });
  }
  if (dmarc.length > 1) {
    return result('dmarc', domain, name, { status: 'misaligned', problem: 'dmarc_multiple_records', records: dmarc, detail: `${dmarc.length} DMARC records at ${name}: receivers ignore them all (RFC 7489 6.6.3)` });
  }
  const record = dmarc[0]!;
  const tags = dmarcTags(record);
  const p = (viaOrg ? tags.get('sp') ?? tags.get('p') : tags.get('p'))?.toLowerCase();
  const where = viaOrg ? `${name} (organisational domain${tags.has('sp') ? ', sp=' : ''})` : name;
  if (p === undefined || !['none', 'quarantine', 'reject'].includes(p)) {
    return result('dmarc', domain, name, { status: 'misaligned', problem: 'dmarc_no_policy', records: [record], detail: `DMARC at ${where} has no valid p= policy` });
  }
  if (p === 'none') {
    return result('dmarc', domain, name, { status: 'misaligned', problem: 'dmarc_policy_none', records: [record], detail: `DMARC at ${where} is p=none: monitoring only, no protection` });
  }
  return result('dmarc', domain, name, { status: 'ok', records: [record], detail: `DMARC p=${p}${viaOrg ? ` (from ${name})` : ''}` });
}

export async function checkMx(r: PostureResolver, domain: string): Promise<PostureResult> {
  const got = await lookup(() => r.resolveMx(domain));
  if (!got.ok) return failed('mx', domain, domain, got.reason, 'MX record');
  const mx = [...got.value].sort((a, b) => a.priority - b.priority);
  const records = mx.map((m) => `${m.priority} ${m.exchange === '' ? '.' : m.exchange}`);
  if (mx.length === 0) return result('mx', domain, domain, { status: 'missing', reason: 'nodata', detail: `no MX record at ${domain}` });
  if (mx.length === 1 && (mx[0]!.exchange === '' || mx[0]!.exchange === '.')) {
    return result('mx', domain, domain, { status: 'misaligned', problem: 'null_mx', records, detail: `${domain} publishes a null MX (RFC 7505): it accepts no mail, so bounces cannot return and receivers refuse it as a sender` });
  }
  return result('mx', domain, domain, { status: 'ok', records, detail: `MX ${records.join(', ')}` });
}

/** The full, lower-case form of an IP (IPv6 expanded to 8 groups of 4), for comparing. */
export function canonicalIp(ip: string): string {
  const v = isIP(ip);
  if (v === 4) return ip;
  if (v !== 6) return ip.toLowerCase();
  let s = ip.toLowerCase();
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const o = tail.split('.').map(Number);
    s = `${s.slice(0, lastColon + 1)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, rest] = s.includes('::') ? s.split('::') as [string, string] : [s, null];
  const h = head === '' ? [] : head.split(':');
  const t = rest === null || rest === '' ? [] : rest.split(':');
  const groups = rest === null ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** The reverse-lookup name of an IP (`10.2.0.192.in-addr.arpa`, nibbles under `ip6.arpa`). */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  return `${canonicalIp(ip).replaceAll(':', '').split('').reverse().join('.')}.ip6.arpa`;
}

/** RFC 1918, loopback, link-local, CGNAT, unspecified; IPv6 loopback, ULA, link-local. */
export function isPrivateIp(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  const c = canonicalIp(ip);
  if (c.startsWith('0000:0000:0000:0000:0000:ffff:')) {
    const g = c.split(':');
    const n = parseInt(g[6]!, 16);
    return isPrivateIp(`${n >> 8}.${n & 255}.${parseInt(g[7]!, 16) >> 8}.${parseInt(g[7]!, 16) & 255}`);
  }
  return c === '0000:0000:0000:0000:0000:0000:0000:0001' || c === '0000:0000:0000:0000:0000:0000:0000:0000' || c.startsWith('fc') || c.startsWith('fd') || c.startsWith('fe8') || c.startsWith('fe9') || c.startsWith('fea') || c.startsWith('feb');
}

/** PTR names looked up forward, at most (a PTR set longer than this is itself unusual). */
const MAX_PTR_NAMES = 3;

export async function checkPtr(r: PostureResolver, ip: string): Promise<PostureResult> {
  const name = reverseName(ip);
  if (isPrivateIp(ip)) return result('ptr', ip, name, { status: 'not_checked', reason: 'private_address', detail: `PTR not checked: ${ip} is ${REASON_TEXT.private_address}` });
  // resolvePtr, not reverse(): reverse() reports an unreachable server as ENOTFOUND (c-ares's gethostbyaddr).
  const got = await lookup(() => r.resolvePtr(name));
  if (!got.ok) return failed('ptr', ip, name, got.reason, 'PTR record');
  const names = got.value.map((n) => n.replace(/\.$/, '').toLowerCase());
  if (names.length === 0) return result('ptr', ip, name, { status: 'missing', reason: 'nodata', detail: `no PTR record for ${ip}` });
  const want = canonicalIp(ip);
  const v6 = isIP(ip) === 6;
  let transient: LookupReason | null = null;
  for (const host of names.slice(0, MAX_PTR_NAMES)) {
    const fwd = await lookup(() => (v6 ? r.resolve6(host) : r.resolve4(host)));
    if (fwd.ok && fwd.value.some((a) => canonicalIp(a) === want)) {
      return result('ptr', ip, name, { status: 'ok', records: names, detail: `PTR ${host}, which resolves back to ${ip} (forward-confirmed)` });
    }
    if (!fwd.ok && !isAnswer(fwd.reason)) transient ??= fwd.reason;
  }
  if (transient !== null) {
    return result('ptr', ip, name, { status: 'not_checked', reason: transient, records: names, detail: `PTR ${names.join(', ')}: forward confirmation not checked: ${REASON_TEXT[transient]}` });
  }
  return result('ptr', ip, name, {
    status: 'misaligned',
    problem: 'ptr_not_confirmed',
    records: names,
    detail: `PTR ${names.join(', ')}, but ${names.length === 1 ? 'that name does' : 'those names do'} not resolve back to ${ip} (no forward-confirmed reverse DNS)`,
  });
}

// ---------------------------------------------------------------------------------------------
// The run

/** A `--dns-server` value as c-ares takes it: `ip`, `ip:port`, `[v6]:port`; null when not one. */
export function parseDnsServer(s: string): string | null {
  const t = s.trim();
  if (isIP(t) !== 0) return t;
  let host: string;
  let port: string;
  if (t.startsWith('[')) {
    const end = t.indexOf(']');
    if (end < 0 || t[end + 1] !== ':') return null;
    host = t.slice(1, end);
    port = t.slice(end + 2);
  } else {
    const colon = t.lastIndexOf(':');
    if (colon < 0) return null;
    host = t.slice(0, colon);
    port = t.slice(colon + 1);
  }
  const n = Number(port);
  if (isIP(host) === 0 || port === '' || !Number.isInteger(n) || n < 1 || n > 65535) return null;
  return isIP(host) === 6 ? `[${host}]:${n}` : `${host}:${n}`;
}

/** Lookups running at once: a handful, so a run with many senders does not flood a resolver. */
const CONCURRENCY = 8;

async function mapLimited<T, R>(items: readonly T[], f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return out;
}

function notCheckedAll(targets: PostureTargets, reason: LookupReason, what: string): { domains: DomainPosture[]; ips: IpPosture[] } {
  const nc = (check: PostureCheck, subject: string, queried: string) => result(check, subject, queried, { status: 'not_checked', reason, detail: `not checked: ${what}` });
  return {
    domains: targets.senderDomains.map((d) => ({ domain: d, spf: nc('spf', d, d), dmarc: nc('dmarc', d, `_dmarc.${d}`), mx: nc('mx', d, d) })),
    ips: targets.ips.map((ip) => ({ ip, ptr: nc('ptr', ip, reverseName(ip)) })),
  };
}

/**
 * Looks up the posture of the targets. Never throws for DNS trouble: an offline machine gets
 * `checked: false` and every result `not_checked` with the reason, after one probe (at most
 * timeoutMs x 2 tries per server).
 */
export async function checkPosture(targets: PostureTargets, options: PostureOptions = {}): Promise<PostureReport> {
  const started = Date.now();
  const cap = options.maxTargets ?? 50;
  const domains = [...new Set(targets.senderDomains.map((d) => d.toLowerCase().replace(/\.$/, '')).filter((d) => d.includes('.')))];
  const ips = [...new Set(targets.ips.filter((ip) => isIP(ip) !== 0))];
  const kept: PostureTargets = { senderDomains: domains.slice(0, cap), ips: ips.slice(0, cap) };
  const skipped = { domains: domains.length - kept.senderDomains.length, ips: ips.length - kept.ips.length };
  let resolver = options.resolver;
  let servers = options.servers ?? [];
  if (resolver === undefined) {
    const real = new Resolver({ timeout: options.timeoutMs ?? 1500, tries: 2 });
    if (servers.length > 0) real.setServers(servers);
    else servers = real.getServers();
    resolver = real;
  }
  const shownServers = servers.length > 0 ? servers : ['system'];
  const done = (body: { domains: DomainPosture[]; ips: IpPosture[] }, checked: boolean, reason: string | null): PostureReport => ({
    checked,
    reason,
    servers: shownServers,
    ...body,
    skipped,
    elapsedMs: Date.now() - started,
  });
  if (kept.senderDomains.length === 0 && kept.ips.length === 0) return done({ domains: [], ips: [] }, true, null);
  if (options.resolver === undefined && servers.length === 0) {
    return done(notCheckedAll(kept, 'offline', 'no DNS server configured'), false, 'no DNS server configured (/etc/resolv.conf has none; use --dns-server)');
  }
  // The probe: one lookup first; when it gets no answer at all, the rest would not either.
  const probeName = kept.senderDomains[0] ?? reverseName(kept.ips[0]!);
  const probe = await lookup<unknown>(() => (kept.senderDomains.length > 0 ? resolver.resolveTxt(probeName) : resolver.resolvePtr(probeName)));
  if (!probe.ok && !isAnswer(probe.reason) && probe.reason !== 'servfail') {
    const why = `${REASON_TEXT[probe.reason]} (${shownServers.join(', ')}, probing ${probeName})`;
    return done(notCheckedAll(kept, probe.reason, why), false, why);
  }
  const r = resolver;
  const domainResults = await mapLimited(kept.senderDomains, async (d) => {
    const [spf, dmarc, mx] = await Promise.all([checkSpf(r, d), checkDmarc(r, d), checkMx(r, d)]);
    return { domain: d, spf, dmarc, mx };
  });
  const ipResults = await mapLimited(kept.ips, async (ip) => ({ ip, ptr: await checkPtr(r, ip) }));
  const all = [...domainResults.flatMap((d) => [d.spf, d.dmarc, d.mx]), ...ipResults.map((i) => i.ptr)];
  const unanswered = all.filter((x) => x.status === 'not_checked' && x.reason !== 'private_address');
  const checked = unanswered.length < all.length || all.length === 0;
  return done({ domains: domainResults, ips: ipResults }, checked, checked ? null : unanswered[0]?.detail ?? null);
}

// ---------------------------------------------------------------------------------------------
// Targets from a run's events

/** What the logs say about one domain or IP: the refusals behind it. */
export interface TargetEvidence {
  subtypes: SubtypeId[];
  /** `envelope` (the logged sender), `reply` (the From domain a receiver's reply names), `ip`. */
  sources: string[];
  refusals: number;
  firstSeen: string | null;
  lastSeen: string | null;
  examples: EvidenceLine[];
}

export interface PostureTargetSet extends PostureTargets {
  /** Our own MTA host names behind outbound refusals whose reply named no IP (resolve them for IPs). */
  hosts: string[];
  evidence: Map<string, TargetEvidence>;
}

const SUBTYPES = new Set<string>(POSTURE_SUBTYPES);
const MAX_EXAMPLES = 5;

/** The From domain a DMARC refusal names: Gmail "email from example.net", EXO "sending domain example.org". */
const REPLY_FROM = /\b(?:email from|sending domain) ([a-z0-9][a-z0-9.-]{0,252})/i;
/** A bracketed IP in a reply: `[192.0.2.10]`, `[IPv6:2001:db8::1]`. */
const REPLY_IP = /\[(?:ipv6:)?([0-9a-f:.]{2,45})\]/gi;

/** A name without its trailing dots (a loop: `/\.+$/` is polynomial on long runs of dots). */
function trimDots(s: string | undefined): string | undefined {
  if (s === undefined) return s;
  let end = s.length;
  while (end > 0 && s[end - 1] === '.') end--;
  return s.slice(0, end);
}

function domainOf(address: string | null): string | null {
  if (address === null) return null;
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  const d = address.slice(at + 1).toLowerCase().replace(/\.$/, '').replace(/>$/, '');
  return d.includes('.') ? d : null;
}

/** Distinct domains and IPs remembered per run (500 each): far more than the 50 looked up, so the most refused are kept. */
const MAX_REMEMBERED = 500;

/**
 * The domains and IPs to check, gathered event by event (`sender_auth_failed`, `reverse_dns_failed`,
 * `sender_address_invalid`): the envelope sender's domain (the header From is not in MTA logs; a
 * DMARC refusal's reply naming the From domain adds that one); the refused client's IP of inbound
 * `reverse_dns_failed`; for outbound and submission refusals, our sending IP as the receiver's reply
 * quotes it (`[192.0.2.10]`, the remote server's own IP excluded): Postfix and Exim do not log the
 * IP they send from. When no reply names it, the logging MTA's host name (when fully qualified) is
 * kept in `hosts`: its A/AAAA records are the best guess of the sending IP (resolveHosts).
 */
export class PostureCollector {
  private readonly evidence = new Map<string, TargetEvidence>();
  private readonly domains: string[] = [];
  private readonly ips: string[] = [];
  private readonly hosts = new Set<string>();

  event(e: RejectionEvent): void {
    const subtype = e.classification?.subtype;
    if (subtype === undefined || !SUBTYPES.has(subtype)) return;
    const envelope = domainOf(e.sender);
    if (envelope !== null) this.note(envelope, this.domains, e, subtype, 'envelope');
    if (subtype === 'sender_auth_failed') {
      const m = REPLY_FROM.exec(e.reply);
      const named = trimDots(m?.[1]?.toLowerCase());
      if (named !== undefined && named.includes('.') && named !== envelope) this.note(named, this.domains, e, subtype, 'reply');
    }
    if (subtype === 'sender_address_invalid') return; // the domain is the question, not the IP
    if (e.direction === 'inbound') {
      if (subtype === 'reverse_dns_failed' && e.client?.ip != null && isIP(e.client.ip) !== 0) this.note(e.client.ip, this.ips, e, subtype, 'client');
      return;
    }
    let found = false;
    for (const m of e.reply.matchAll(REPLY_IP)) {
      const ip = m[1]!;
      if (isIP(ip) === 0 || ip === e.remote?.ip) continue;
      this.note(ip, this.ips, e, subtype, 'reply');
      found = true;
    }
    if (!found && e.direction === 'outbound' && e.mta.host !== null && e.mta.host.includes('.') && this.hosts.size < 10) this.hosts.add(e.mta.host.toLowerCase());
  }

  /** The targets, the most refused first. */
  targets(): PostureTargetSet {
    const byRefusals = (list: string[]) => [...list].sort((a, b) => this.evidence.get(b)!.refusals - this.evidence.get(a)!.refusals);
    return { senderDomains: byRefusals(this.domains), ips: byRefusals(this.ips), hosts: [...this.hosts], evidence: this.evidence };
  }

  private note(key: string, list: string[], e: RejectionEvent, subtype: SubtypeId, source: string): void {
    let ev = this.evidence.get(key);
    if (ev === undefined) {
      if (list.length >= MAX_REMEMBERED) return;
      ev = { subtypes: [], sources: [], refusals: 0, firstSeen: null, lastSeen: null, examples: [] };
      this.evidence.set(key, ev);
      list.push(key);
    }
    if (!ev.subtypes.includes(subtype)) ev.subtypes.push(subtype);
    if (!ev.sources.includes(source)) ev.sources.push(source);
    ev.refusals++;
    if (e.time !== null) {
      if (ev.firstSeen === null || e.time < ev.firstSeen) ev.firstSeen = e.time;
      if (ev.lastSeen === null || e.time > ev.lastSeen) ev.lastSeen = e.time;
    }
    if (ev.examples.length < MAX_EXAMPLES) ev.examples.push({ file: e.source.file, line: e.source.line, time: e.time, text: e.raw.slice(0, 500) });
  }
}

/** postureTargets(events): the targets of a whole list of events (PostureCollector over them). */
export function postureTargets(events: Iterable<RejectionEvent>): PostureTargetSet {
  const c = new PostureCollector();
  for (const e of events) c.event(e);
  return c.targets();
}

/** Adds the A/AAAA addresses of `hosts` (our MTA's names) to the IPs, best effort (a failed lookup adds nothing). */
export async function resolveHosts(set: PostureTargetSet, options: PostureOptions = {}): Promise<void> {
  if (set.hosts.length === 0) return;
  let r = options.resolver;
  if (r === undefined) {
    const real = new Resolver({ timeout: options.timeoutMs ?? 1500, tries: 1 });
    if (options.servers !== undefined && options.servers.length > 0) real.setServers(options.servers);
    r = real;
  }
  const resolver = r;
  for (const host of set.hosts) {
    // A single-label name (`mx1`, syslog's short host) would go through the resolver's search
    // domains and may name another machine: only fully qualified names are looked up.
    if (!host.includes('.')) continue;
    const [v4, v6] = await Promise.all([lookup(() => resolver.resolve4(host)), lookup(() => resolver.resolve6(host))]);
    for (const ip of [...(v4.ok ? v4.value : []), ...(v6.ok ? v6.value : [])]) {
      if (!set.evidence.has(ip)) {
        set.ips.push(ip);
        set.evidence.set(ip, { subtypes: ['reverse_dns_failed'], sources: [`host ${host}`], refusals: 0, firstSeen: null, lastSeen: null, examples: [] });
      }
    }
    if (!(v4.ok || v6.ok) && !isAnswer(v4.ok ? 'nodata' : v4.reason)) return; // offline: stop here
  }
}

// ---------------------------------------------------------------------------------------------
// Findings

export interface PostureContext {
  evidence: Map<string, TargetEvidence>;
}

const ESP = '<your ESP>';

function nextMove(res: PostureResult, domainOrIp: string): string {
  const org = res.check === 'dmarc' ? res.queried.replace(/^_dmarc\./, '') : domainOrIp;
  switch (res.problem) {
    case 'spf_multiple_records':
      return `merge the SPF records of ${domainOrIp} into one TXT record (\`v=spf1 ... -all\`): two are a permanent error`;
    case 'spf_permissive_all':
      return `end the SPF record of ${domainOrIp} with -all or ~all, listing the hosts that send (\`v=spf1 include:${ESP} -all\`)`;
    case 'spf_too_many_lookups':
      return `flatten the SPF record of ${domainOrIp} under 10 DNS lookups (replace includes with ip4:/ip6: ranges)`;
    case 'dmarc_multiple_records':
      return `keep one TXT v=DMARC1 record at ${res.queried}`;
    case 'dmarc_no_policy':
      return `add a policy to ${res.queried}: \`v=DMARC1; p=none; rua=mailto:dmarc@${org}\`, then tighten to quarantine and reject`;
    case 'dmarc_policy_none':
      return `once the aggregate reports (rua=) show all your mail aligned, tighten ${res.queried} to p=quarantine, then p=reject`;
    case 'null_mx':
      return `send from a domain that receives mail: ${domainOrIp} publishes a null MX (replace it with real MX records, or change the envelope sender / return-path)`;
    case 'ptr_not_confirmed':
      return `make the PTR of ${domainOrIp} (${res.records[0] ?? ''}) resolve back: add an A/AAAA record ${res.records[0] ?? '<name>'} -> ${domainOrIp}, or set a PTR whose name does`;
    default:
      break;
  }
  if (res.reason === 'nxdomain' && res.check !== 'dmarc' && res.check !== 'ptr') {
    return `${domainOrIp} does not exist in DNS: use an envelope sender (return-path) of a domain you own, or register and publish ${domainOrIp}`;
  }
  switch (res.check) {
    case 'spf':
      return `publish \`${domainOrIp} TXT "v=spf1 include:${ESP} -all"\` listing every host and provider that sends as ${domainOrIp}`;
    case 'dmarc':
      return `publish \`_dmarc.${organisationalDomain(domainOrIp)} TXT "v=DMARC1; p=none; rua=mailto:dmarc@${organisationalDomain(domainOrIp)}"\`, read the reports, then tighten to p=quarantine and p=reject`;
    case 'mx':
      return `publish an MX record for ${domainOrIp} (a sender domain that cannot receive bounces is refused by many receivers)`;
    case 'ptr':
      return `ask the owner of ${domainOrIp} (your hosting or ISP) to set a PTR for ${domainOrIp} naming the mail host, with an A/AAAA record that resolves back to ${domainOrIp}`;
  }
}

/** Severity by what is wrong and which refusals it is behind. */
function severityOf(res: PostureResult, subtypes: readonly string[]): Severity {
  const auth = subtypes.includes('sender_auth_failed');
  const address = subtypes.includes('sender_address_invalid');
  const rdns = subtypes.includes('reverse_dns_failed');
  if (res.reason === 'nxdomain' && res.check !== 'dmarc') return 'high';
  switch (res.check) {
    case 'spf':
      return auth ? 'high' : 'medium';
    case 'dmarc':
      if (res.problem === 'dmarc_policy_none') return auth ? 'medium' : 'low';
      return auth ? 'high' : 'medium';
    case 'mx':
      if (res.problem === 'null_mx') return address ? 'high' : 'medium';
      return address ? 'high' : 'low';
    case 'ptr':
      return rdns ? 'high' : 'medium';
  }
}

const CHECK_NAME: Record<PostureCheck, string> = { spf: 'SPF', dmarc: 'DMARC', mx: 'MX', ptr: 'PTR' };

export function postureFindingId(subject: string, check: PostureCheck): string {
  return `sender_posture:${createHash('sha256').update(`${subject}\u0000${check}`).digest('hex').slice(0, 12)}`;
}

/** One `sender_posture` finding per record missing or misaligned (not for `not_checked`), worst first. */
export function toFindings(report: PostureReport, context: PostureContext): Finding[] {
  const out: Finding[] = [];
  const add = (subject: string, kind: 'domain' | 'ip', res: PostureResult) => {
    if (res.status !== 'missing' && res.status !== 'misaligned') return;
    const ev = context.evidence.get(subject);
    const subtypes = ev?.subtypes ?? [];
    out.push({
      id: postureFindingId(subject, res.check),
      kind: 'sender_posture',
      severity: severityOf(res, subtypes),
      title: `${CHECK_NAME[res.check]} ${res.status} for ${subject}${subtypes.length > 0 ? ` (behind ${subtypes.join(', ')} refusals)` : ''}: ${res.detail}`,
      subject: {
        [kind]: subject,
        check: res.check,
        status: res.status,
        problem: res.problem,
        reason: res.reason,
        subtype: subtypes[0] ?? null,
        source: ev?.sources.join(',') ?? null,
      },
      counts: { refusals: ev?.refusals ?? 0, firstSeen: ev?.firstSeen ?? null, lastSeen: ev?.lastSeen ?? null, records: res.records.length },
      examples: ev?.examples ?? [],
      nextMove: nextMove(res, subject),
    });
  };
  for (const d of report.domains) for (const res of [d.spf, d.dmarc, d.mx]) add(d.domain, 'domain', res);
  for (const i of report.ips) add(i.ip, 'ip', i.ptr);
  const rank: Record<Severity, number> = { high: 0, medium: 1, low: 2 };
  return out.sort((a, b) => rank[a.severity] - rank[b.severity] || Number(b.counts.refusals) - Number(a.counts.refusals) || a.id.localeCompare(b.id));
}
