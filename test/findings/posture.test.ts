import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import {
  canonicalIp,
  checkDmarc,
  checkMx,
  checkPosture,
  checkPtr,
  checkSpf,
  isPrivateIp,
  organisationalDomain,
  parseDnsServer,
  postureFindingId,
  postureTargets,
  reverseName,
  toFindings,
  type PostureResolver,
} from '../../src/findings/posture.js';
import type { RejectionEvent } from '../../src/model/event.js';

const err = (code: string) => Object.assign(new Error(code), { code });

interface Zone {
  txt?: Record<string, string[][]>;
  mx?: Record<string, { exchange: string; priority: number }[]>;
  ptr?: Record<string, string[]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  /** Names that exist (NODATA instead of NXDOMAIN for a record they lack). */
  names?: string[];
  /** Every query fails with this code. */
  fail?: string;
  /** Queries of these names fail with the code given. */
  failFor?: Record<string, string>;
}

/** A resolver over a table: NXDOMAIN for unknown names, NODATA for known names without the record. */
function fake(zone: Zone): PostureResolver & { queries: string[] } {
  const queries: string[] = [];
  const known = new Set([
    ...(zone.names ?? []),
    ...Object.keys(zone.txt ?? {}),
    ...Object.keys(zone.mx ?? {}),
    ...Object.keys(zone.ptr ?? {}),
    ...Object.keys(zone.a ?? {}),
    ...Object.keys(zone.aaaa ?? {}),
  ]);
  const get = <T>(type: string, table: Record<string, T> | undefined) => async (name: string): Promise<T> => {
    queries.push(`${type} ${name}`);
    if (zone.fail !== undefined) throw err(zone.fail);
    const f = zone.failFor?.[name];
    if (f !== undefined) throw err(f);
    const v = table?.[name];
    if (v !== undefined) return v;
    throw err(known.has(name) ? 'ENODATA' : 'ENOTFOUND');
  };
  return {
    queries,
    resolveTxt: get('TXT', zone.txt),
    resolveMx: get('MX', zone.mx),
    resolvePtr: get('PTR', zone.ptr),
    resolve4: get('A', zone.a),
    resolve6: get('AAAA', zone.aaaa),
  };
}

describe('SPF', () => {
  it('ok with -all or ~all, joining a record split into strings', async () => {
    const r = fake({ txt: { 'example.com': [['v=spf1 ip4:192.0.2.0/24 ', '-all']], 'example.org': [['google-site-verification=x'], ['v=spf1 mx ~all']] } });
    expect(await checkSpf(r, 'example.com')).toMatchObject({ status: 'ok', records: ['v=spf1 ip4:192.0.2.0/24 -all'] });
    expect(await checkSpf(r, 'example.org')).toMatchObject({ status: 'ok', records: ['v=spf1 mx ~all'] });
  });
  it('missing: no v=spf1 TXT (NODATA, other TXT only, NXDOMAIN); v=spf10 is not SPF', async () => {
    const r = fake({ names: ['example.com'], txt: { 'example.org': [['v=spf10 -all'], ['hello']] } });
    expect(await checkSpf(r, 'example.com')).toMatchObject({ status: 'missing', reason: 'nodata' });
    expect(await checkSpf(r, 'example.org')).toMatchObject({ status: 'missing', reason: 'nodata' });
    expect(await checkSpf(r, 'nowhere.example.net')).toMatchObject({ status: 'missing', reason: 'nxdomain' });
  });
  it('several records are a permanent error', async () => {
    const r = fake({ txt: { 'example.com': [['v=spf1 -all'], ['v=spf1 include:_spf.example.net -all']] } });
    expect(await checkSpf(r, 'example.com')).toMatchObject({ status: 'misaligned', problem: 'spf_multiple_records' });
  });
  it('+all, bare all and ?all are too permissive', async () => {
    for (const all of ['+all', 'all', '?all']) {
      const r = fake({ txt: { 'example.com': [[`v=spf1 mx ${all}`]] } });
      expect(await checkSpf(r, 'example.com')).toMatchObject({ status: 'misaligned', problem: 'spf_permissive_all' });
    }
  });
  it('more than 10 top-level lookups', async () => {
    const includes = Array.from({ length: 11 }, (_, i) => `include:s${i}.example.net`).join(' ');
    const r = fake({ txt: { 'example.com': [[`v=spf1 ${includes} -all`]], 'example.org': [['v=spf1 a mx include:a.example.net include:b.example.net -all']] } });
    expect(await checkSpf(r, 'example.com')).toMatchObject({ status: 'misaligned', problem: 'spf_too_many_lookups' });
    expect(await checkSpf(r, 'example.org')).toMatchObject({ status: 'ok' });
  });
  it('timeout, SERVFAIL, REFUSED and connection refused leave it not checked, with the reason', async () => {
    for (const [code, reason] of [['ETIMEOUT', 'timeout'], ['ESERVFAIL', 'servfail'], ['EREFUSED', 'refused'], ['ECONNREFUSED', 'offline']] as const) {
      expect(await checkSpf(fake({ fail: code }), 'example.com')).toMatchObject({ status: 'not_checked', reason });
    }
  });
});

describe('DMARC', () => {
  it('ok with p=reject or p=quarantine', async () => {
    const r = fake({ txt: { '_dmarc.example.com': [['v=DMARC1; p=reject; rua=mailto:d@example.com']], '_dmarc.example.org': [['v=DMARC1;p=quarantine']] } });
    expect(await checkDmarc(r, 'example.com')).toMatchObject({ status: 'ok', queried: '_dmarc.example.com' });
    expect(await checkDmarc(r, 'example.org')).toMatchObject({ status: 'ok' });
  });
  it('missing (NXDOMAIN and other TXT only)', async () => {
    const r = fake({ txt: { '_dmarc.example.org': [['v=spf1 -all']] } });
    expect(await checkDmarc(r, 'example.com')).toMatchObject({ status: 'missing', reason: 'nxdomain', queried: '_dmarc.example.com' });
    expect(await checkDmarc(r, 'example.org')).toMatchObject({ status: 'missing', reason: 'nodata' });
  });
  it('p=none is monitoring only; no p= and several records are misaligned', async () => {
    const r = fake({
      txt: {
        '_dmarc.example.com': [['v=DMARC1; p=none; rua=mailto:d@example.com']],
        '_dmarc.example.org': [['v=DMARC1; rua=mailto:d@example.org']],
        '_dmarc.example.net': [['v=DMARC1; p=reject'], ['v=DMARC1; p=none']],
      },
    });
    expect(await checkDmarc(r, 'example.com')).toMatchObject({ status: 'misaligned', problem: 'dmarc_policy_none' });
    expect(await checkDmarc(r, 'example.org')).toMatchObject({ status: 'misaligned', problem: 'dmarc_no_policy' });
    expect(await checkDmarc(r, 'example.net')).toMatchObject({ status: 'misaligned', problem: 'dmarc_multiple_records' });
  });
  it('a subdomain falls back to the organisational domain (last two labels), whose sp= applies', async () => {
    const r = fake({ txt: { '_dmarc.example.com': [['v=DMARC1; p=reject; sp=none']], '_dmarc.example.org': [['v=DMARC1; p=reject']] } });
    expect(await checkDmarc(r, 'bounces.example.com')).toMatchObject({ status: 'misaligned', problem: 'dmarc_policy_none', queried: '_dmarc.example.com' });
    expect(await checkDmarc(r, 'mail.eu.example.org')).toMatchObject({ status: 'ok', queried: '_dmarc.example.org' });
    const none = await checkDmarc(r, 'bounces.example.net');
    expect(none).toMatchObject({ status: 'missing', queried: '_dmarc.bounces.example.net' });
    expect(none.detail).toContain('_dmarc.example.net');
    expect(organisationalDomain('a.b.example.com')).toBe('example.com');
    expect(organisationalDomain('example.com')).toBe('example.com');
  });
  it('a timeout is not checked', async () => {
    expect(await checkDmarc(fake({ fail: 'ETIMEOUT' }), 'example.com')).toMatchObject({ status: 'not_checked', reason: 'timeout' });
  });
});

describe('MX', () => {
  it('ok, missing, null MX, NXDOMAIN', async () => {
    const r = fake({ names: ['example.org'], mx: { 'example.com': [{ exchange: 'mx2.example.com', priority: 20 }, { exchange: 'mx1.example.com', priority: 10 }], 'example.net': [{ exchange: '', priority: 0 }] } });
    expect(await checkMx(r, 'example.com')).toMatchObject({ status: 'ok', records: ['10 mx1.example.com', '20 mx2.example.com'] });
    expect(await checkMx(r, 'example.org')).toMatchObject({ status: 'missing', reason: 'nodata' });
    expect(await checkMx(r, 'example.net')).toMatchObject({ status: 'misaligned', problem: 'null_mx', records: ['0 .'] });
    expect(await checkMx(r, 'gone.example')).toMatchObject({ status: 'missing', reason: 'nxdomain' });
  });
});

describe('PTR', () => {
  const zone: Zone = {
    ptr: {
      '10.2.0.192.in-addr.arpa': ['mail.example.com'],
      '30.2.0.192.in-addr.arpa': ['liar.example.net'],
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa': ['v6.example.com'],
    },
    a: { 'mail.example.com': ['192.0.2.10'], 'liar.example.net': ['192.0.2.99'] },
    aaaa: { 'v6.example.com': ['2001:db8:0:0::1'] },
  };
  it('forward-confirmed (IPv4 and IPv6, in any notation)', async () => {
    expect(await checkPtr(fake(zone), '192.0.2.10')).toMatchObject({ status: 'ok', records: ['mail.example.com'], queried: '10.2.0.192.in-addr.arpa' });
    expect(await checkPtr(fake(zone), '2001:DB8::1')).toMatchObject({ status: 'ok', records: ['v6.example.com'] });
  });
  it('missing, and not forward-confirming', async () => {
    expect(await checkPtr(fake(zone), '192.0.2.20')).toMatchObject({ status: 'missing', reason: 'nxdomain' });
    expect(await checkPtr(fake(zone), '192.0.2.30')).toMatchObject({ status: 'misaligned', problem: 'ptr_not_confirmed', records: ['liar.example.net'] });
  });
  it('a forward lookup that times out is not checked; private addresses are not looked up', async () => {
    const r = fake({ ...zone, failFor: { 'mail.example.com': 'ETIMEOUT' } });
    expect(await checkPtr(r, '192.0.2.10')).toMatchObject({ status: 'not_checked', reason: 'timeout' });
    const q = fake(zone);
    expect(await checkPtr(q, '10.1.2.3')).toMatchObject({ status: 'not_checked', reason: 'private_address' });
    expect(q.queries).toEqual([]);
  });
  it('address helpers', () => {
    expect(reverseName('192.0.2.10')).toBe('10.2.0.192.in-addr.arpa');
    expect(reverseName('2001:db8::1')).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
    expect(canonicalIp('::ffff:192.0.2.1')).toBe('0000:0000:0000:0000:0000:ffff:c000:0201');
    expect(canonicalIp('2001:db8::')).toBe('2001:0db8:0000:0000:0000:0000:0000:0000');
    for (const ip of ['10.0.0.1', '172.16.5.5', '192.168.1.1', '127.0.0.1', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1']) expect(isPrivateIp(ip), ip).toBe(true);
    for (const ip of ['192.0.2.10', '172.32.0.1', '2001:db8::1', '8.8.8.8']) expect(isPrivateIp(ip), ip).toBe(false);
  });
});

describe('--dns-server values', () => {
  it('takes ip, ip:port, [v6]:port', () => {
    expect(parseDnsServer('127.0.0.1')).toBe('127.0.0.1');
    expect(parseDnsServer('127.0.0.1:5353')).toBe('127.0.0.1:5353');
    expect(parseDnsServer('::1')).toBe('::1');
    expect(parseDnsServer('[::1]:53')).toBe('[::1]:53');
    for (const bad of ['dns.example.com', '127.0.0.1:0', '127.0.0.1:70000', '[::1]', '1.2.3:53', '']) expect(parseDnsServer(bad), bad).toBeNull();
  });
});

function ev(partial: Partial<RejectionEvent> & { subtype: string; line?: number }): RejectionEvent {
  const { subtype, line, ...rest } = partial;
  return {
    id: `e${line ?? 1}`,
    time: '2024-03-11T08:00:00.000Z',
    source: { format: 'postfix', file: 'mail.log', line: line ?? 1, offset: 0, identity: 'x' },
    mta: { host: 'mx1', program: 'postfix', daemon: 'smtp' },
    direction: 'outbound',
    sender: null,
    reply: '',
    remote: null,
    client: null,
    raw: `line ${line ?? 1}`,
    classification: { subtype } as RejectionEvent['classification'],
    ...rest,
  } as RejectionEvent;
}

describe('postureTargets', () => {
  it('sender domains of the three subtypes, the From domain a DMARC reply names, client and quoted IPs', () => {
    const t = postureTargets([
      ev({ subtype: 'sender_auth_failed', sender: 'news@Example.COM', reply: '550 5.7.26 Unauthenticated email from example.net is not accepted due to domain\'s DMARC policy', remote: { name: 'mx.example.org', ip: '198.51.100.27', port: 25 } }),
      ev({ subtype: 'reverse_dns_failed', direction: 'inbound', sender: 'a@example.org', client: { name: 'unknown', ip: '198.51.100.66', port: null, helo: null }, line: 2 }),
      ev({ subtype: 'reverse_dns_failed', sender: 'b@example.com', reply: '550 5.7.25 [203.0.113.9] The IP address sending this message does not have a PTR record setup', remote: { name: 'mx.example.net', ip: '198.51.100.1', port: 25 }, line: 3 }),
      ev({ subtype: 'sender_address_invalid', sender: 'x@nowhere.example', line: 4 }),
      ev({ subtype: 'recipient_unknown', sender: 'y@example.edu', line: 5 }),
      ev({ subtype: 'reverse_dns_failed', sender: '', reply: 'no PTR', mta: { host: 'out.example.com', program: 'postfix', daemon: 'smtp' }, line: 6 }),
    ]);
    expect(t.senderDomains).toEqual(['example.com', 'example.net', 'example.org', 'nowhere.example']);
    expect(t.ips.sort()).toEqual(['198.51.100.66', '203.0.113.9']);
    expect(t.hosts).toEqual(['out.example.com']);
    expect(t.evidence.get('example.com')).toMatchObject({ refusals: 2, subtypes: ['sender_auth_failed', 'reverse_dns_failed'], sources: ['envelope'] });
    expect(t.evidence.get('example.net')?.sources).toEqual(['reply']);
    expect(t.evidence.get('example.com')?.examples.map((x) => x.line)).toEqual([1, 3]);
  });
});

describe('checkPosture and toFindings', () => {
  const zone: Zone = {
    txt: {
      'good.example': [['v=spf1 -all']],
      '_dmarc.good.example': [['v=DMARC1; p=reject']],
      'weak.example': [['v=spf1 +all']],
      '_dmarc.weak.example': [['v=DMARC1; p=none']],
    },
    mx: { 'good.example': [{ exchange: 'mx.good.example', priority: 10 }], 'weak.example': [{ exchange: 'mx.weak.example', priority: 10 }] },
    names: ['bare.example'],
  };
  it('reports each check and makes findings for what is missing or misaligned, with stable ids', async () => {
    const targets = postureTargets([
      ev({ subtype: 'sender_auth_failed', sender: 'a@good.example' }),
      ev({ subtype: 'sender_auth_failed', sender: 'a@weak.example' }),
      ev({ subtype: 'sender_auth_failed', sender: 'a@bare.example' }),
      ev({ subtype: 'reverse_dns_failed', direction: 'inbound', client: { name: 'unknown', ip: '192.0.2.20', port: null, helo: null } }),
    ]);
    const report = await checkPosture(targets, { resolver: fake(zone) });
    expect(report.checked).toBe(true);
    const good = report.domains.find((d) => d.domain === 'good.example')!;
    expect([good.spf.status, good.dmarc.status, good.mx.status]).toEqual(['ok', 'ok', 'ok']);
    const findings = toFindings(report, targets);
    const keyed = findings.map((f) => `${f.severity} ${f.subject.domain ?? f.subject.ip} ${f.subject.check} ${f.subject.status}`);
    expect(keyed).toEqual(
      expect.arrayContaining([
        'high bare.example spf missing',
        'high bare.example dmarc missing',
        'low bare.example mx missing',
        'high weak.example spf misaligned',
        'medium weak.example dmarc misaligned',
        'high 192.0.2.20 ptr missing',
      ]),
    );
    expect(findings).toHaveLength(6);
    expect(findings.every((f) => f.kind === 'sender_posture')).toBe(true);
    expect(findings[0]!.severity).toBe('high');
    const spf = findings.find((f) => f.subject.domain === 'bare.example' && f.subject.check === 'spf')!;
    expect(spf.id).toBe(postureFindingId('bare.example', 'spf'));
    expect(spf.id).toMatch(/^sender_posture:[0-9a-f]{12}$/);
    expect(spf.nextMove).toContain('v=spf1 include:<your ESP> -all');
    expect(spf.examples).toHaveLength(1);
    expect(findings.find((f) => f.subject.check === 'dmarc' && f.subject.domain === 'bare.example')!.nextMove).toContain('_dmarc.bare.example TXT "v=DMARC1; p=none; rua=');
    expect(findings.find((f) => f.subject.ip === '192.0.2.20')!.nextMove).toContain('set a PTR for 192.0.2.20');
  });
  it('offline: one probe, everything not checked with the reason, no findings', async () => {
    const r = fake({ fail: 'ECONNREFUSED' });
    const report = await checkPosture({ senderDomains: ['a.example', 'b.example'], ips: ['192.0.2.1'] }, { resolver: r });
    expect(report.checked).toBe(false);
    expect(report.reason).toContain('no DNS server reachable');
    expect(r.queries).toHaveLength(1);
    expect(report.domains.every((d) => d.spf.status === 'not_checked' && d.spf.reason === 'offline')).toBe(true);
    expect(report.ips[0]!.ptr).toMatchObject({ status: 'not_checked', reason: 'offline' });
    expect(toFindings(report, { evidence: new Map() })).toEqual([]);
  });
  it('a real resolver against a server that never answers gives up within a few seconds', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const port = silent.address().port;
    const started = Date.now();
    const report = await checkPosture({ senderDomains: ['example.com'], ips: [] }, { servers: [`127.0.0.1:${port}`], timeoutMs: 300 });
    const took = Date.now() - started;
    silent.close();
    expect(report).toMatchObject({ checked: false, servers: [`127.0.0.1:${port}`] });
    expect(report.domains[0]!.spf).toMatchObject({ status: 'not_checked', reason: 'timeout' });
    expect(took).toBeLessThan(5000);
  });
  it('caps the targets and says how many were left', async () => {
    const report = await checkPosture({ senderDomains: ['a.example', 'b.example', 'c.example'], ips: [] }, { resolver: fake({}), maxTargets: 2 });
    expect(report.domains).toHaveLength(2);
    expect(report.skipped).toEqual({ domains: 1, ips: 0 });
  });
});
