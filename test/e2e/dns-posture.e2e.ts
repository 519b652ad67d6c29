/**
 * `mta550 analyze --check-dns` against a real DNS server (#14 item 5): Debian's dnsmasq (installed by
 * setup-dns.sh) on 127.0.0.1 and a free high port, serving the test's own records for example.com,
 * example.org and example.net (`--local=` makes it answer NXDOMAIN/NODATA for what it lacks, as an
 * authoritative server would; with no upstream it would say REFUSED). The built CLI runs as a
 * process, the way a user runs it, and reads a Postfix log of reverse_dns_failed,
 * sender_auth_failed and sender_address_invalid refusals. A closed port stands for an offline
 * machine: the run must say "not checked" within a few seconds and keep its exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/types.js';
import type { PostureReport } from '../../src/findings/posture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(ROOT, 'dist/src/cli.js');
const DNSMASQ = '/usr/sbin/dnsmasq';

/** The zones: one domain set up right, one without DMARC, one with p=none and +all; three IPs. */
const RECORDS = [
  '--local=/example.com/example.org/example.net/2.0.192.in-addr.arpa/',
  // example.com: good SPF, DMARC p=reject, MX; bounces.example.com has none of its own (org fallback)
  '--txt-record=example.com,v=spf1 ip4:192.0.2.10 -all',
  '--txt-record=_dmarc.example.com,v=DMARC1; p=reject; rua=mailto:dmarc@example.com',
  '--mx-host=example.com,mail.example.com,10',
  // example.org: SPF and MX, no DMARC
  '--txt-record=example.org,v=spf1 mx -all',
  '--mx-host=example.org,mail.example.org,10',
  // example.net: +all, p=none; nullmx.example.net publishes a null MX (RFC 7505)
  '--txt-record=example.net,v=spf1 +all',
  '--txt-record=_dmarc.example.net,v=DMARC1; p=none',
  '--mx-host=example.net,mail.example.net,10',
  '--txt-record=nullmx.example.net,v=spf1 -all',
  '--mx-host=nullmx.example.net,.,0',
  // 192.0.2.10 -> mail.example.com -> 192.0.2.10 (confirmed); 192.0.2.20 no PTR; 192.0.2.30 -> liar.example.net -> 192.0.2.99
  '--ptr-record=10.2.0.192.in-addr.arpa,mail.example.com',
  '--host-record=mail.example.com,192.0.2.10',
  '--host-record=mail.example.org,192.0.2.40',
  '--ptr-record=30.2.0.192.in-addr.arpa,liar.example.net',
  '--host-record=liar.example.net,192.0.2.99',
];

const LOG = [
  'Mar 11 08:20:01 mx1 postfix/smtpd[2231]: NOQUEUE: reject: RCPT from mail.example.com[192.0.2.10]: 550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.10]; from=<news@example.com> to=<alice@example.edu> proto=ESMTP helo=<mail.example.com>',
  'Mar 11 08:20:02 mx1 postfix/smtpd[2231]: NOQUEUE: reject: RCPT from unknown[192.0.2.20]: 550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.20]; from=<news@example.org> to=<alice@example.edu> proto=ESMTP helo=<mail.example.org>',
  'Mar 11 08:20:03 mx1 postfix/smtpd[2231]: NOQUEUE: reject: RCPT from unknown[192.0.2.30]: 550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.30]; from=<offers@example.net> to=<alice@example.edu> proto=ESMTP helo=<liar.example.net>',
  'Mar 11 08:20:04 mx1 postfix/smtpd[2231]: NOQUEUE: reject: RCPT from mail.example.com[192.0.2.10]: 550 5.7.23 <bob@example.edu>: Recipient address rejected: Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=x@example.org;ip=192.0.2.10;r=mx1; from=<x@example.org> to=<bob@example.edu> proto=ESMTP helo=<mail.example.com>',
  'Mar 11 08:20:05 mx1 postfix/smtpd[2231]: NOQUEUE: reject: RCPT from mail.example.com[192.0.2.10]: 550 5.1.8 <bounce@nullmx.example.net>: Sender address rejected: Domain not found; from=<bounce@nullmx.example.net> to=<bob@example.edu> proto=ESMTP helo=<mail.example.com>',
  'Mar 11 08:20:06 mx1 postfix/smtpd[2231]: NOQUEUE: reject: RCPT from mail.example.com[192.0.2.10]: 550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.10]; from=<news@bounces.example.com> to=<carol@example.edu> proto=ESMTP helo=<mail.example.com>',
  'Mar 11 08:20:07 mx1 postfix/smtpd[2231]: NOQUEUE: reject: RCPT from mail.example.com[192.0.2.10]: 550 5.1.1 <nobody@example.edu>: Recipient address rejected: User unknown in virtual mailbox table; from=<news@unchecked.example.org> to=<nobody@example.edu> proto=ESMTP helo=<mail.example.com>',
].join('\n') + '\n';

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started }));
  });
}

/** A UDP and TCP port on 127.0.0.1 nobody listens on (bound, read, closed). */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let dir = '';
let logPath = '';
let dnsmasq: ChildProcess | null = null;
let port = 0;

beforeAll(async () => {
  expect(existsSync(DNSMASQ), 'dnsmasq (dnsmasq-base) is installed by test/e2e/setup-dns.sh').toBe(true);
  expect(existsSync(CLI), 'the CLI is built (npm run build)').toBe(true);
  dir = mkdtempSync(path.join(tmpdir(), 'mta550-dns-'));
  logPath = path.join(dir, 'mail.log');
  writeFileSync(logPath, LOG);
  for (let attempt = 0; attempt < 5 && dnsmasq === null; attempt++) {
    port = 20000 + Math.floor(Math.random() * 30000);
    const child = spawn(DNSMASQ, ['--keep-in-foreground', '--no-daemon', '--no-resolv', '--no-hosts', '--user=root', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', `--pid-file=${path.join(dir, 'dnsmasq.pid')}`, ...RECORDS], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    // Ready once it has logged its zones; gone at once when the port was taken.
    const ready = await new Promise<boolean>((resolve) => {
      const t = setInterval(() => {
        if (log.includes('using only locally-known addresses for 2.0.192.in-addr.arpa')) done(true);
      }, 20);
      const done = (ok: boolean) => {
        clearInterval(t);
        resolve(ok);
      };
      child.on('exit', () => done(false));
      setTimeout(() => done(false), 5000);
    });
    if (ready) dnsmasq = child;
    else child.kill();
  }
  expect(dnsmasq, 'dnsmasq started').not.toBeNull();
});

afterAll(() => {
  dnsmasq?.kill();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

interface Json {
  findings: Finding[];
  posture: PostureReport;
}

describe('--check-dns against dnsmasq on loopback', () => {
  let json: Json;
  let ms = 0;
  beforeAll(async () => {
    const r = await run(['analyze', logPath, '--year', '2024', '--check-dns', '--dns-server', `127.0.0.1:${port}`, '--output', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    json = JSON.parse(r.stdout) as Json;
    ms = r.ms;
  });

  const domain = (d: string) => json.posture.domains.find((x) => x.domain === d)!;
  const ip = (a: string) => json.posture.ips.find((x) => x.ip === a)!;

  it('checks the sender domains and client IPs behind the three subtypes, and nothing else', () => {
    expect(json.posture.checked).toBe(true);
    expect(json.posture.servers).toEqual([`127.0.0.1:${port}`]);
    expect(json.posture.domains.map((d) => d.domain).sort()).toEqual(['bounces.example.com', 'example.com', 'example.net', 'example.org', 'nullmx.example.net']);
    expect(json.posture.ips.map((i) => i.ip).sort()).toEqual(['192.0.2.10', '192.0.2.20', '192.0.2.30']);
    expect(ms).toBeLessThan(10_000);
  });

  it('example.com is set up right; bounces.example.com takes its DMARC from example.com', () => {
    expect(domain('example.com')).toMatchObject({ spf: { status: 'ok' }, dmarc: { status: 'ok' }, mx: { status: 'ok', records: ['10 mail.example.com'] } });
    expect(domain('bounces.example.com').dmarc).toMatchObject({ status: 'ok', queried: '_dmarc.example.com' });
    expect(domain('bounces.example.com').spf).toMatchObject({ status: 'missing', reason: 'nxdomain' });
  });

  it('example.org has no DMARC record', () => {
    expect(domain('example.org')).toMatchObject({ spf: { status: 'ok' }, dmarc: { status: 'missing', reason: 'nxdomain' }, mx: { status: 'ok' } });
  });

  it('example.net has +all and p=none; nullmx.example.net a null MX', () => {
    expect(domain('example.net').spf).toMatchObject({ status: 'misaligned', problem: 'spf_permissive_all', records: ['v=spf1 +all'] });
    expect(domain('example.net').dmarc).toMatchObject({ status: 'misaligned', problem: 'dmarc_policy_none' });
    expect(domain('nullmx.example.net').mx).toMatchObject({ status: 'misaligned', problem: 'null_mx' });
  });

  it('PTR: forward-confirmed, missing, not confirming', () => {
    expect(ip('192.0.2.10').ptr).toMatchObject({ status: 'ok', records: ['mail.example.com'] });
    expect(ip('192.0.2.20').ptr).toMatchObject({ status: 'missing', reason: 'nxdomain' });
    expect(ip('192.0.2.30').ptr).toMatchObject({ status: 'misaligned', problem: 'ptr_not_confirmed', records: ['liar.example.net'] });
  });

  it('the report\'s findings carry one sender_posture finding per problem, with evidence and next move', () => {
    const posture = json.findings.filter((f) => f.kind === 'sender_posture');
    const keys = posture.map((f) => `${f.severity} ${f.subject.domain ?? f.subject.ip} ${f.subject.check}`).sort();
    expect(keys).toEqual(
      [
        'high example.org dmarc', // missing, behind sender_auth_failed
        'medium example.net spf', // +all, behind reverse_dns_failed only
        'low example.net dmarc', // p=none, behind reverse_dns_failed only
        'high nullmx.example.net mx', // null MX behind sender_address_invalid
        'low nullmx.example.net dmarc', // example.net's p=none, by the organisational-domain fallback
        'high 192.0.2.20 ptr', // no PTR behind reverse_dns_failed
        'high 192.0.2.30 ptr', // PTR not forward-confirmed
        'high bounces.example.com spf', // the name does not exist (NXDOMAIN)
        'high bounces.example.com mx',
      ].sort(),
    );
    const ptr = posture.find((f) => f.subject.ip === '192.0.2.20')!;
    expect(ptr.id).toMatch(/^sender_posture:[0-9a-f]{12}$/);
    expect(ptr.examples[0]).toMatchObject({ file: logPath, line: 2 });
    expect(ptr.nextMove).toContain('set a PTR for 192.0.2.20');
    expect(posture.find((f) => f.subject.domain === 'example.org')!.nextMove).toContain('_dmarc.example.org TXT "v=DMARC1; p=none; rua=');
  });

  it('gives the golden findings for the scenario sample samples/findings/020-sender-posture.log (#14 item 6)', async () => {
    // The unit golden test reads the sample without DNS (its events); the posture findings need this server.
    const sample = 'samples/findings/020-sender-posture.log';
    const golden = path.join(ROOT, 'samples/findings/020-sender-posture.dns-findings.ndjson');
    const r = await run(['analyze', sample, '--year', '2024', '--codes', '5xx', '--check-dns', '--dns-server', `127.0.0.1:${port}`, '--output', 'records', '--records', 'findings']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, r.stdout);
    const parse = (t: string) => t.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Finding);
    const got = parse(r.stdout);
    expect(got.filter((f) => f.kind === 'sender_posture').length).toBe(9);
    expect(got).toEqual(parse(readFileSync(golden, 'utf8')));
  });

  it('the text report has a "Sender posture (DNS)" section', async () => {
    const r = await run(['analyze', logPath, '--year', '2024', '--check-dns', '--dns-server', `127.0.0.1:${port}`, '--output', 'text', '--color', 'never']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Sender posture (DNS)');
    expect(r.stdout).toMatch(/example\.org +SPF ok · DMARC MISSING · MX ok/);
    expect(r.stdout).toMatch(/192\.0\.2\.30 +PTR MISALIGNED/);
  });

  it('without --check-dns nothing is looked up', async () => {
    const r = await run(['analyze', logPath, '--year', '2024', '--output', 'json']);
    const plain = JSON.parse(r.stdout) as Partial<Json>;
    expect(plain.posture).toBeUndefined();
    expect((plain.findings ?? []).some((f) => f.kind === 'sender_posture')).toBe(false);
  });
});

describe('--check-dns with no DNS server answering', () => {
  it('a closed port: "DNS not checked" within a few seconds, exit code unchanged', async () => {
    const closed = await freePort();
    const r = await run(['analyze', logPath, '--year', '2024', '--check-dns', '--dns-server', `127.0.0.1:${closed}`, '--output', 'text', '--color', 'never']);
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(5000);
    expect(r.stdout).toContain(`DNS not checked: no DNS server reachable (connection refused or no network) (127.0.0.1:${closed}`);
    const j = await run(['analyze', logPath, '--year', '2024', '--check-dns', '--dns-server', `127.0.0.1:${closed}`, '--output', 'json']);
    expect(j.code).toBe(0);
    expect(j.stderr).toContain('DNS not checked');
    const json = JSON.parse(j.stdout) as Json;
    expect(json.posture.checked).toBe(false);
    expect(json.posture.domains.every((d) => d.spf.status === 'not_checked' && d.spf.reason === 'offline')).toBe(true);
    expect(json.findings.some((f) => f.kind === 'sender_posture')).toBe(false);
    console.log(`closed port: ${r.ms} ms (text), ${j.ms} ms (json)`);
  });

  it('the system resolver inside the test\'s network namespace (only loopback): not checked, promptly', async () => {
    const r = await run(['analyze', logPath, '--year', '2024', '--check-dns', '--output', 'text', '--color', 'never']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('DNS not checked: ');
    expect(r.ms).toBeLessThan(15_000);
    console.log(`system resolver, no network: ${r.ms} ms: ${r.stdout.split('\n').find((l) => l.includes('DNS not checked'))?.trim()}`);
  });
});
