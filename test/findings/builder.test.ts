import { describe, expect, it } from 'vitest';
import { ReportBuilder } from '../../src/aggregate/report.js';
import { renderHtml } from '../../src/output/html.js';
import { renderText } from '../../src/output/text.js';
import type { Classification } from '../../src/classify/classify.js';
import type { SubtypeId } from '../../src/classify/subtypes.js';
import { FindingsBuilder, findingId, MAX_PAIRS, sortFindings, validUnsent } from '../../src/findings/builder.js';
import type { Finding } from '../../src/findings/types.js';
import type { DeliveryAttempt, RecipientOutcome, RejectionEvent } from '../../src/model/event.js';
import type { OnsetRecord } from '../../src/onset/engine.js';

let line = 0;

interface Ev {
  time?: string | null;
  direction?: RejectionEvent['direction'];
  outcome?: string;
  sender?: string | null;
  recipient?: string;
  queueId?: string | null;
  messageId?: string | null;
  code?: number;
  subtype?: SubtypeId;
  provider?: string;
  others?: RecipientOutcome[];
  finalStatus?: string | null;
  relation?: 'content_filter' | 'non_delivery_notification' | null;
  app?: { library: string; accepted?: string[]; raw?: string };
}

function ev(o: Ev = {}): RejectionEvent {
  line++;
  const recipient = o.recipient ?? 'bad@example.org';
  const others = o.others ?? [];
  const byStatus: Record<string, number> = {};
  for (const r of others) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const queueId = o.queueId === undefined ? `Q${line}` : o.queueId;
  return {
    id: `e${line}`,
    time: o.time === undefined ? '2024-03-11T08:00:00.000Z' : o.time,
    yearSource: 'logged',
    source: { format: o.app === undefined ? 'postfix' : 'app', file: 'mail.log', line, offset: line * 100, identity: 'x' },
    mta: { host: 'mx1', program: null, daemon: 'smtp' },
    direction: o.direction ?? (o.app === undefined ? 'outbound' : 'submission'),
    outcome: o.outcome ?? 'bounced',
    action: null,
    queueId,
    messageId: o.messageId === undefined ? null : o.messageId,
    sender: o.sender === undefined ? 'app@example.com' : o.sender,
    recipient,
    recipientDomain: recipient.split('@')[1] ?? null,
    originalRecipient: null,
    stage: 'rcpt',
    code: o.code ?? 550,
    codeInferred: false,
    enhancedStatus: '5.1.1',
    enhancedStatusSource: 'reply',
    reply: `550 5.1.1 <${recipient}>: User unknown`,
    remote: null,
    client: null,
    relay: null,
    message: {
      size: null,
      nrcpt: others.length + 1,
      recipientFinalStatus: o.finalStatus === undefined ? 'bounced' : o.finalStatus,
      otherRecipients: others,
      otherRecipientsByStatus: byStatus,
      links: { parentQueueId: null, relation: o.relation ?? null, queueIdChain: queueId === null ? [] : [queueId], notificationQueueId: null },
      complete: true,
    },
    classification: { subtype: o.subtype ?? 'recipient_unknown', provider: o.provider ?? 'other', nextMove: 'x' } as unknown as Classification,
    raw: o.app?.raw ?? '',
    ...(o.app === undefined
      ? {}
      : { app: { ecosystem: 'node', library: o.app.library, exception: null, codeCandidates: null, accepted: o.app.accepted ?? [], link: null } as unknown as RejectionEvent['app'] }),
  } as RejectionEvent;
}

function sent(sender: string, recipient: string, time = '2024-03-11T08:00:00.000Z'): DeliveryAttempt {
  return {
    timeMs: Date.parse(time),
    mtaHost: 'mx1',
    messageKey: `k${++line}`,
    recipient,
    recipientDomain: recipient.split('@')[1] ?? null,
    status: 'sent',
    code: 250,
    enhancedStatus: '2.0.0',
    reply: '250 ok',
    stage: 'end_of_data',
    remoteHost: null,
    remoteIp: null,
    sender,
    clientIp: null,
  };
}

const min = (m: number, s = 0) => new Date(Date.UTC(2024, 2, 11, 8, m, s)).toISOString();
const of = (fs: Finding[], kind: Finding['kind']) => fs.filter((f) => f.kind === kind);

describe('retry_after_permanent', () => {
  it('counts each refusal after the first as wasted, with first and last seen', () => {
    const b = new FindingsBuilder();
    for (const m of [0, 60, 120]) b.event(ev({ time: min(m), messageId: `m${m}@x` }));
    const [f] = of(b.build(), 'retry_after_permanent');
    expect(f).toBeDefined();
    expect(f!.counts).toMatchObject({ attempts: 3, wastedAttempts: 2, messages: 3, firstSeen: min(0), lastSeen: min(120) });
    expect(f!.severity).toBe('medium');
    expect(f!.subject).toMatchObject({ sender: 'app@example.com', recipient: 'bad@example.org' });
    expect(f!.id).toBe(findingId('retry_after_permanent', 'outbound||app@example.com|bad@example.org'));
    expect(f!.examples).toHaveLength(3);
  });

  it('severity: low for 2, high from 5 (hours apart: not a loop)', () => {
    const b1 = new FindingsBuilder();
    for (const m of [0, 120]) b1.event(ev({ time: min(m) }));
    expect(b1.build()[0]!.severity).toBe('low');
    const b2 = new FindingsBuilder();
    for (const m of [0, 120, 240, 360, 480]) b2.event(ev({ time: min(m) }));
    const [f] = b2.build();
    expect(f!.severity).toBe('high');
    expect(f!.title).not.toContain('loop');
    expect(f!.examples).toHaveLength(5);
  });

  it('an app retrying within minutes is a loop: high, and says it is a reputation risk', () => {
    const b = new FindingsBuilder();
    for (const s of [0, 15, 30]) b.event(ev({ time: min(1, s), sender: null, queueId: null, app: { library: 'nodemailer' } }));
    const [f] = of(b.build(), 'retry_after_permanent');
    expect(f!.severity).toBe('high');
    expect(f!.title).toContain('in a loop');
    expect(f!.title).toContain('reputation risk');
    expect(f!.nextMove).toContain('reputation risk');
    expect(f!.subject['library']).toBe('nodemailer');
  });

  it("one message's several recipients is not a retry", () => {
    const b = new FindingsBuilder();
    for (const r of ['a@example.org', 'b@example.org', 'c@example.org']) b.event(ev({ queueId: 'Q1', recipient: r }));
    expect(of(b.build(), 'retry_after_permanent')).toEqual([]);
  });

  it('the same refusal of one message told twice (same queue ID) counts once', () => {
    const b = new FindingsBuilder();
    b.event(ev({ queueId: 'Q7' }));
    b.event(ev({ queueId: 'Q7' }));
    expect(of(b.build(), 'retry_after_permanent')).toEqual([]);
  });

  it('bounces (null sender, NDRs) and deferrals are not retries', () => {
    const b = new FindingsBuilder();
    b.event(ev({ sender: '' }));
    b.event(ev({ sender: '' }));
    b.event(ev({ relation: 'non_delivery_notification' }));
    b.event(ev({ relation: 'non_delivery_notification' }));
    b.event(ev({ sender: 'x@example.com', outcome: 'deferred' }));
    b.event(ev({ sender: 'x@example.com', outcome: 'deferred' }));
    b.event(ev({ sender: 'y@example.com', code: 450 }));
    b.event(ev({ sender: 'y@example.com', code: 450 }));
    expect(b.build()).toEqual([]);
  });

  it('the same refusal on two paths (inbound on the relay, outbound on the sender) is not a retry', () => {
    const b = new FindingsBuilder();
    b.event(ev({ direction: 'inbound' }));
    b.event(ev({ direction: 'outbound' }));
    expect(b.build()).toEqual([]);
  });

  it('a pair refused once is kept packed: its first refusal comes back whole, odd characters, nulls and all', () => {
    const b = new FindingsBuilder();
    const first = ev({ sender: null, time: null, recipient: 'o=dd:5-x@example.org', app: { library: '=3:-' } });
    first.reply = '550 -=12:x\u0000:= 5.1.1 "quoted" \u00e9 : -';
    first.source = { ...first.source, file: 'odd:-=1.log' };
    b.event(first);
    b.event(ev({ sender: null, time: '2024-03-11T08:05:00.000Z', recipient: 'o=dd:5-x@example.org', app: { library: '=3:-' } }));
    const [f] = of(b.build(), 'retry_after_permanent');
    expect(f!.subject).toMatchObject({ direction: 'submission', sender: null, recipient: 'o=dd:5-x@example.org', library: '=3:-' });
    expect(f!.examples[0]).toEqual({ file: 'odd:-=1.log', line: first.source.line, time: null, text: first.reply });
    expect(f!.counts).toMatchObject({ attempts: 2, firstSeen: '2024-03-11T08:05:00.000Z', lastSeen: '2024-03-11T08:05:00.000Z' });
  });

  it('the same attempt told twice while the pair is packed still counts once', () => {
    const b = new FindingsBuilder();
    const e = ev();
    b.event(e);
    b.event({ ...e, id: 'again', source: { ...e.source, line: e.source.line + 1 } });
    expect(of(b.build(), 'retry_after_permanent')).toEqual([]);
  });

  it('stays bounded: pairs seen once leave first, repeat offenders stay', () => {
    const b = new FindingsBuilder();
    b.event(ev({ recipient: 'repeat@example.org' }));
    b.event(ev({ recipient: 'repeat@example.org' }));
    for (let i = 0; i < MAX_PAIRS + MAX_PAIRS / 10 + 5; i++) b.event(ev({ recipient: `u${i}@example.org` }));
    const fs = of(b.build(), 'retry_after_permanent');
    expect(fs.map((f) => f.subject['recipient'])).toEqual(['repeat@example.org']);
  });
});

describe('poisoned_multi_recipient', () => {
  it('names the refused recipients and counts the accepted ones, one finding per message', () => {
    const b = new FindingsBuilder();
    const others = (bad: string): RecipientOutcome[] => [
      { address: bad, status: 'bounced', dsn: '5.1.1', relay: null },
      ...['a', 'b', 'c'].map((x) => ({ address: `${x}@example.net`, status: 'sent', dsn: '2.0.0', relay: null })),
    ];
    b.event(ev({ queueId: 'Q1', messageId: 'msg1@example.com', recipient: 'bad1@example.org', others: others('bad2@example.org') }));
    b.event(ev({ queueId: 'Q1', messageId: 'msg1@example.com', recipient: 'bad2@example.org', others: others('bad1@example.org') }));
    const fs = of(b.build(), 'poisoned_multi_recipient');
    expect(fs).toHaveLength(1);
    expect(fs[0]!.subject['refusedRecipients']).toBe('bad1@example.org, bad2@example.org');
    expect(fs[0]!.counts).toMatchObject({ affectedRecipients: 3, refusedRecipients: 2, acceptedRecipients: 3 });
    expect(fs[0]!.severity).toBe('medium');
    expect(fs[0]!.title).toContain('<msg1@example.com>');
  });

  it('a deferral then success is not poisoned', () => {
    const b = new FindingsBuilder();
    const others: RecipientOutcome[] = [{ address: 'ok@example.net', status: 'sent', dsn: '2.0.0', relay: null }];
    b.event(ev({ outcome: 'deferred', finalStatus: 'sent', others }));
    b.event(ev({ code: 450, others }));
    b.event(ev({ finalStatus: 'sent', others }));
    expect(of(b.build(), 'poisoned_multi_recipient')).toEqual([]);
  });

  it('a single-recipient refusal, or other recipients only deferred, is not poisoned', () => {
    const b = new FindingsBuilder();
    b.event(ev());
    b.event(ev({ others: [{ address: 'later@example.net', status: 'deferred', dsn: '4.2.0', relay: null }] }));
    expect(of(b.build(), 'poisoned_multi_recipient')).toEqual([]);
  });

  it('an app send that went out to some recipients (accepted) and not others', () => {
    const b = new FindingsBuilder();
    b.event(ev({ queueId: null, sender: null, app: { library: 'nodemailer', accepted: ['a@example.net', 'b@example.net'] } }));
    const [f] = of(b.build(), 'poisoned_multi_recipient');
    expect(f!.counts).toMatchObject({ affectedRecipients: 2, acceptedRecipients: 2, unsentRecipients: 0 });
    expect(f!.subject['library']).toBe('nodemailer');
  });

  it('a JavaMail send that failed as a whole: the valid unsent recipients are affected, severity raised', () => {
    const raw = [
      'javax.mail.SendFailedException: Invalid Addresses;',
      '  nested exception is:',
      '\tcom.sun.mail.smtp.SMTPAddressFailedException: 550 5.1.1 <bad@example.org>: User unknown',
      'DEBUG SMTP: Valid Unsent Addresses',
      'DEBUG SMTP:   ok1@example.net',
      'DEBUG SMTP:   ok2@example.net',
      'DEBUG SMTP: Invalid Addresses',
    ].join('\n');
    expect(validUnsent(raw)).toEqual(['ok1@example.net', 'ok2@example.net']);
    const b = new FindingsBuilder();
    b.event(ev({ queueId: null, app: { library: 'javax.mail', raw } }));
    const [f] = of(b.build(), 'poisoned_multi_recipient');
    expect(f!.counts).toMatchObject({ affectedRecipients: 2, unsentRecipients: 2, acceptedRecipients: 0 });
    expect(f!.title).toContain('whole send failed');
    expect(f!.severity).toBe('medium');
  });
});

describe('one_domain_only', () => {
  const refusals = (b: FindingsBuilder, domain: string, k: number, subtype: SubtypeId = 'sender_auth_failed') => {
    for (let i = 0; i < k; i++) b.event(ev({ time: min(i), recipient: `r${i}@${domain}`, subtype, provider: 'microsoft', sender: 'news@shop.example.com' }));
  };

  it('a subtype concentrated on one domain while other domains accept the same senders', () => {
    const b = new FindingsBuilder();
    refusals(b, 'example.org', 9);
    refusals(b, 'example.net', 1);
    b.attempt(sent('news@shop.example.com', 'x@example.net', min(3)));
    b.attempt(sent('orders@shop.example.com', 'y@example.edu', min(4)));
    const [f] = of(b.build(), 'one_domain_only');
    expect(f).toBeDefined();
    expect(f!.subject).toMatchObject({ recipientDomain: 'example.org', provider: 'microsoft', subtype: 'sender_auth_failed' });
    expect(f!.counts).toMatchObject({ refusals: 9, subtypeRefusals: 10, acceptingDomains: 2, acceptedDeliveries: 2, routeChange: null });
    expect(f!.nextMove).toContain('Why only example.org');
    expect(f!.nextMove).toContain('DMARC');
  });

  it('two domains failing equally is not one-domain-only', () => {
    const b = new FindingsBuilder();
    refusals(b, 'example.org', 6);
    refusals(b, 'example.net', 6);
    b.attempt(sent('news@shop.example.com', 'x@example.edu', min(3)));
    expect(of(b.build(), 'one_domain_only')).toEqual([]);
  });

  it('needs deliveries elsewhere from the same senders, in the same period, and at least 5 refusals', () => {
    const b = new FindingsBuilder();
    refusals(b, 'example.org', 9);
    b.attempt(sent('someone@other.example', 'x@example.net', min(3)));
    b.attempt(sent('news@shop.example.com', 'x@example.net', '2024-03-12T12:00:00.000Z'));
    expect(of(b.build(), 'one_domain_only')).toEqual([]);
    const few = new FindingsBuilder();
    refusals(few, 'example.org', 4);
    few.attempt(sent('news@shop.example.com', 'x@example.net', min(3)));
    expect(of(few.build(), 'one_domain_only')).toEqual([]);
  });

  it("names the route change an onset's attribution found for that domain", () => {
    const b = new FindingsBuilder();
    refusals(b, 'example.org', 6);
    b.attempt(sent('news@shop.example.com', 'x@example.net', min(3)));
    b.onset({
      type: 'onset',
      series: { level: 'rcpt_domain', key: 'd|example.org', subtype: 'sender_auth_failed', provider: 'microsoft', recipientDomain: 'example.org' },
      attribution: { top: { attribute: 'relay', from: 'out1.example.com', to: 'out2.example.com', changedAt: Date.parse(min(0)) } },
    } as unknown as OnsetRecord);
    const [f] = of(b.build(), 'one_domain_only');
    expect(f!.counts['routeChange']).toBe(`relay out1.example.com -> out2.example.com at ${min(0)}`);
  });
});

describe('build', () => {
  it('sorts by severity then count and merges findings from other sources', () => {
    const b = new FindingsBuilder();
    for (const m of [0, 120]) b.event(ev({ time: min(m), recipient: 'two@example.org' }));
    for (const m of [0, 120, 240]) b.event(ev({ time: min(m), recipient: 'three@example.org' }));
    const extra: Finding = { id: 'resent_other_path:abc', kind: 'resent_other_path', severity: 'high', title: 't', subject: {}, counts: { count: 1 }, examples: [], nextMove: 'n' };
    const fs = b.build({ extra: [extra] });
    expect(fs.map((f) => f.severity)).toEqual(['high', 'medium', 'low']);
    expect(fs[0]!.id).toBe('resent_other_path:abc');
    expect(sortFindings([...fs].reverse()).map((f) => f.id)).toEqual(fs.map((f) => f.id));
  });

  it('ids are stable across runs', () => {
    const run = () => {
      const b = new FindingsBuilder();
      for (const m of [0, 120]) b.event(ev({ time: min(m), recipient: 'same@example.org' }));
      return b.build().map((f) => f.id);
    };
    expect(run()).toEqual(run());
    expect(run()[0]).toMatch(/^retry_after_permanent:[0-9a-f]{12}$/);
  });
});

describe('findings in the reports', () => {
  const hostile: Finding = {
    id: 'retry_after_permanent:0123456789ab',
    kind: 'retry_after_permanent',
    severity: 'high',
    title: '<script>alert(1)</script> "quoted" & retried',
    subject: { recipient: '<x@example.org>' },
    counts: { attempts: 6, wastedAttempts: 5, firstSeen: '2024-03-11T08:00:00.000Z', lastSeen: null },
    examples: [{ file: 'a<b>.log', line: 3, time: null, text: '550 <img src=x onerror=alert(1)>' }],
    nextMove: 'Stop & think </article>',
  };
  const report = () => {
    const r = new ReportBuilder(['550']).build([], { messagesOpened: 0, messagesClosed: 0, evictedIdle: 0, evictedOverflow: 0, openAtEnd: 0, releasedWaiting: 0, nonRefusingActions: {} }, [hostile]);
    return r;
  };

  it('HTML: one escaped article per finding in section#findings', () => {
    const html = renderHtml(report());
    const section = html.slice(html.indexOf('<section id="findings">'), html.indexOf('</section>', html.indexOf('<section id="findings">')));
    expect(section).toContain('<article class="finding" id="retry_after_permanent:0123456789ab" data-kind="retry_after_permanent" data-severity="high">');
    expect(section).not.toContain('<script>');
    expect(section).not.toContain('<img');
    expect(section).toContain('&lt;script&gt;');
    expect(section.match(/<\/article>/g)).toHaveLength(1);
  });

  it('text: a Findings section whose lines fit the width, and --top limits it', () => {
    for (const width of [40, 60, 100]) {
      const text = renderText(report(), { width });
      expect(text).toContain('Findings');
      for (const l of text.split('\n')) expect([...l].length, l).toBeLessThanOrEqual(width);
    }
    const r = report();
    r.findings = [hostile, { ...hostile, id: 'x:2' }, { ...hostile, id: 'x:3' }];
    expect(renderText(r, { top: 1 })).toContain('… and 2 more findings');
  });
});
