/**
 * --redact (#9): personal data hashed or removed consistently, in fields and inside texts.
 */
import { describe, expect, it } from 'vitest';
import { parseRedact, Redactor } from '../../src/output/redact.js';
import { runCli } from '../run-cli.js';

describe('Redactor', () => {
  const local = new Redactor(parseRedact(['local-parts']), 'salt');
  const whole = new Redactor(parseRedact(['addresses']), 'salt');

  it('hashes local parts (domain kept) or whole addresses, the same address to the same token, in text too', () => {
    const a = local.address('Jane.Doe@example.com');
    expect(a).toMatch(/^h-[0-9a-f]{12}@example\.com$/);
    expect(local.address('jane.doe@example.com')).toBe(a); // case-insensitive
    expect(whole.address('jane.doe@example.com')).toMatch(/^h-[0-9a-f]{12}$/);
    expect(new Redactor(parseRedact(['addresses']), 'other').address('jane.doe@example.com')).not.toBe(whole.address('jane.doe@example.com'));
    expect(local.address('')).toBe(''); // the null sender stays
    const text = '550 5.1.1 <jane.doe@example.com>: Recipient address rejected; from=<app@example.org> to=<jane.doe@example.com>. Mail me@example.net.';
    const r = local.text(text);
    expect(r).not.toContain('jane.doe');
    expect(r).not.toContain('app@');
    expect(r.match(/h-[0-9a-f]{12}@example\.com/g)).toHaveLength(2);
    expect(r.endsWith('@example.net.')).toBe(true); // the full stop is not part of the domain
    expect(local.text('no address @ here, user@localhost either')).toBe('no address @ here, user@localhost either');
  });

  it('removes subjects from Postfix check lines and Exim T= fields, keeping the rest', () => {
    const subjects = new Redactor(parseRedact(['subjects']));
    expect(subjects.text('warning: header Subject: Your invoice 4711 from web01.example.com[192.0.2.21]; from=<a@example.com> to=<b@example.org>')).toBe(
      'warning: header Subject: [redacted] from web01.example.com[192.0.2.21]; from=<a@example.com> to=<b@example.org>',
    );
    expect(subjects.text('1kTq4w-0003Hb-Zr <= a@example.com H=x [192.0.2.1] P=esmtp S=1234 T="Hello \\"you\\"" id=1@x')).toBe('1kTq4w-0003Hb-Zr <= a@example.com H=x [192.0.2.1] P=esmtp S=1234 T="[redacted]" id=1@x');
  });

  it('scans hostile text in linear time', () => {
    const hostile = 'a'.repeat(200_000) + '@' + '.'.repeat(200_000);
    const t0 = process.hrtime.bigint();
    local.text(hostile);
    new Redactor(parseRedact(['subjects'])).text('Subject:' + ' from x'.repeat(50_000));
    expect(Number(process.hrtime.bigint() - t0) / 1e9).toBeLessThan(5);
  });

  it('refuses unknown modes', () => {
    expect(() => parseRedact(['names'])).toThrow(/--redact: "names" is not one of local-parts, addresses, subjects/);
  });
});

describe('mta550 analyze --redact', () => {
  it('leaves no recipient or sender address in any record or in the report, and keeps the groups', async () => {
    const args = ['analyze', 'samples/postfix/001-remote-550-providers.log', '--year', '2024', '--codes', '5xx', '--redact', 'addresses', '-q'];
    const plain = JSON.parse((await runCli(['analyze', 'samples/postfix/001-remote-550-providers.log', '--year', '2024', '--codes', '5xx', '-o', 'json', '-q'])).stdout) as { groups: { recipientDomain: string; count: number }[] };
    const ndjson = (await runCli([...args, '-o', 'ndjson', '--records', 'all,attempts'])).stdout;
    const report = (await runCli([...args, '-o', 'json'])).stdout;
    for (const out of [ndjson, report.replace(/"path": "[^"]*"/g, '')]) {
      expect(out).not.toMatch(/[a-z0-9._-]+@example\.(com|org|net)/i);
    }
    const redacted = JSON.parse(report) as typeof plain;
    expect(redacted.groups.map((g) => [g.recipientDomain, g.count])).toEqual(plain.groups.map((g) => [g.recipientDomain, g.count]));
  });
});
