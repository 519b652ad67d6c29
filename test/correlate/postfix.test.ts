import { describe, expect, it } from 'vitest';
import { correlate } from '../helpers.js';

const L = (time: string, tag: string, msg: string) => `Mar 11 ${time} mx1 postfix/${tag}[100]: ${msg}`;

const received = (qid: string, t = '08:00:00', from = 'alice@example.com', nrcpt = 1) => [
  L(t, 'smtpd', `${qid}: client=web01.example.com[192.0.2.21], sasl_method=PLAIN, sasl_username=alice`),
  L(t, 'cleanup', `${qid}: message-id=<${qid.toLowerCase()}@example.com>`),
  L(t, 'qmgr', `${qid}: from=<${from}>, size=1234, nrcpt=${nrcpt} (queue active)`),
];
const bounced = (qid: string, to: string, t = '08:00:01', reply = '550 5.1.1 <x>: User unknown') =>
  L(t, 'smtp', `${qid}: to=<${to}>, relay=mx.example.net[203.0.113.25]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.1.1, status=bounced (host mx.example.net[203.0.113.25] said: ${reply} (in reply to RCPT TO command))`);
const sent = (qid: string, to: string, t = '08:00:01') =>
  L(t, 'smtp', `${qid}: to=<${to}>, relay=mx.example.org[203.0.113.30]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 99AA11)`);
const removed = (qid: string, t = '08:00:02') => L(t, 'qmgr', `${qid}: removed`);

describe('PostfixCorrelator', () => {
  it('gives a remote 550 its message: Message-ID, sender, client, size, nrcpt', () => {
    const { events } = correlate([...received('5D0B7F3A19'), bounced('5D0B7F3A19', 'dave@example.net'), removed('5D0B7F3A19')]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      direction: 'outbound',
      outcome: 'bounced',
      queueId: '5D0B7F3A19',
      messageId: '5d0b7f3a19@example.com',
      sender: 'alice@example.com',
      recipient: 'dave@example.net',
      recipientDomain: 'example.net',
      stage: 'rcpt',
      code: 550,
      enhancedStatus: '5.1.1',
      remote: { name: 'mx.example.net', ip: '203.0.113.25' },
      client: { name: 'web01.example.com', ip: '192.0.2.21' },
      time: '2024-03-11T08:00:01.000Z',
      message: { size: 1234, nrcpt: 1, complete: true, otherRecipients: [] },
    });
  });

  it('shows the outcome of the other recipients of a partly failed message', () => {
    const { events } = correlate([
      ...received('5D0B7F3A19', '08:00:00', 'alice@example.com', 3),
      sent('5D0B7F3A19', 'erin@example.org'),
      bounced('5D0B7F3A19', 'dave@example.net', '08:00:02'),
      sent('5D0B7F3A19', 'frank@example.org', '08:00:03'),
      removed('5D0B7F3A19', '08:00:04'),
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]!.message).toMatchObject({
      recipientFinalStatus: 'bounced',
      otherRecipients: [
        { address: 'erin@example.org', status: 'sent' },
        { address: 'frank@example.org', status: 'sent' },
      ],
      otherRecipientsByStatus: { sent: 2 },
    });
  });

  it('starts a new message when a queue ID is reused after removed', () => {
    const { events } = correlate([
      ...received('5D0B7F3A19', '08:00:00', 'first@example.com'),
      bounced('5D0B7F3A19', 'a@example.net'),
      removed('5D0B7F3A19'),
      ...received('5D0B7F3A19', '08:20:00', 'second@example.com'),
      bounced('5D0B7F3A19', 'b@example.net', '08:20:01'),
      removed('5D0B7F3A19', '08:20:02'),
    ]);
    expect(events.map((e) => [e.sender, e.recipient, e.messageId])).toEqual([
      ['first@example.com', 'a@example.net', '5d0b7f3a19@example.com'],
      ['second@example.com', 'b@example.net', '5d0b7f3a19@example.com'],
    ]);
    expect(events.every((e) => e.message?.otherRecipients.length === 0)).toBe(true);
  });

  it('links a content-filter re-injection to the original and keeps the outside client', () => {
    const { events } = correlate([
      L('08:00:00', 'smtpd', '4B1E9C2A: client=out.example.org[198.51.100.7]'),
      L('08:00:00', 'cleanup', '4B1E9C2A: message-id=<m1@example.org>'),
      L('08:00:00', 'qmgr', '4B1E9C2A: from=<carol@example.org>, size=900, nrcpt=1 (queue active)'),
      L('08:00:01', '10025/smtpd', 'B81D2E4F0A17: client=localhost[127.0.0.1]'),
      L('08:00:01', 'cleanup', 'B81D2E4F0A17: message-id=<m1@example.org>'),
      L('08:00:01', 'qmgr', 'B81D2E4F0A17: from=<carol@example.org>, size=1300, nrcpt=1 (queue active)'),
      L('08:00:01', 'smtp', '4B1E9C2A: to=<bob@example.net>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as B81D2E4F0A17)'),
      L('08:00:01', 'qmgr', '4B1E9C2A: removed'),
      bounced('B81D2E4F0A17', 'bob@example.net', '08:00:03'),
      removed('B81D2E4F0A17', '08:00:04'),
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      queueId: 'B81D2E4F0A17',
      messageId: 'm1@example.org',
      client: { name: 'out.example.org', ip: '198.51.100.7' },
      message: { links: { parentQueueId: '4B1E9C2A', relation: 'content_filter', queueIdChain: ['4B1E9C2A', 'B81D2E4F0A17'] } },
    });
  });

  it('links a non-delivery notification to its parent both ways', () => {
    const { events } = correlate([
      ...received('5D0B7F3A19'),
      bounced('5D0B7F3A19', 'dave@example.net'),
      L('08:00:01', 'cleanup', '8E4C1A07B2: message-id=<ndr@mx1.example.com>'),
      L('08:00:01', 'bounce', '5D0B7F3A19: sender non-delivery notification: 8E4C1A07B2'),
      removed('5D0B7F3A19'),
      L('08:00:02', 'qmgr', '8E4C1A07B2: from=<>, size=3000, nrcpt=1 (queue active)'),
      L('08:00:03', 'smtp', '8E4C1A07B2: to=<alice@example.com>, relay=mx.example.com[203.0.113.40]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx.example.com[203.0.113.40] said: 550 5.1.1 gone (in reply to RCPT TO command))'),
      removed('8E4C1A07B2', '08:00:04'),
    ]);
    expect(events).toHaveLength(2);
    expect(events[0]!.message?.links).toMatchObject({ notificationQueueId: '8E4C1A07B2' });
    expect(events[1]).toMatchObject({
      queueId: '8E4C1A07B2',
      sender: '',
      message: { links: { parentQueueId: '5D0B7F3A19', relation: 'non_delivery_notification', queueIdChain: ['5D0B7F3A19', '8E4C1A07B2'] } },
    });
  });

  it('keeps a 550 inside a deferral as a deferral, and its final status after expiry', () => {
    const deferred = (t: string) =>
      L(t, 'smtp', '5D0B7F3A19: to=<erin@example.net>, relay=mx.example.net[198.51.100.60]:25, delay=300, delays=0/0/300/0, dsn=4.0.0, status=deferred (host mx.example.net[198.51.100.60] refused to talk to me: 550 5.7.1 Service refused)');
    const { events, outcomes } = correlate([
      ...received('5D0B7F3A19'),
      deferred('08:05:00'),
      deferred('08:40:00'),
      L('09:00:00', 'qmgr', '5D0B7F3A19: from=<alice@example.com>, status=expired, returned to sender'),
      removed('5D0B7F3A19', '09:00:01'),
    ]);
    expect(events.map((e) => [e.outcome, e.stage, e.code, e.enhancedStatus])).toEqual([
      ['deferred', 'connect', 550, '5.7.1'],
      ['deferred', 'connect', 550, '5.7.1'],
    ]);
    expect(events[0]!.message?.recipientFinalStatus).toBe('expired');
    expect(outcomes).toEqual([
      ['example.net', 'deferred'],
      ['example.net', 'deferred'],
      ['example.net', 'expired'],
    ]);
  });

  it('ignores 4xx deferrals but counts them as outcomes', () => {
    const { events, outcomes } = correlate([
      ...received('5D0B7F3A19'),
      L('08:00:01', 'smtp', '5D0B7F3A19: to=<g@example.net>, relay=mx.example.net[203.0.113.25]:25, delay=1, delays=0/0/0/1, dsn=4.2.0, status=deferred (host mx.example.net[203.0.113.25] said: 450 4.2.0 Greylisted (in reply to RCPT TO command))'),
    ]);
    expect(events).toHaveLength(0);
    expect(outcomes).toEqual([['example.net', 'deferred']]);
  });

  it('infers 550 for a local bounce that has only a dsn', () => {
    const { events } = correlate([
      ...received('5D0B7F3A19'),
      L('08:00:01', 'local', '5D0B7F3A19: to=<carol@example.com>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=5.1.1, status=bounced (unknown user: "carol")'),
      removed('5D0B7F3A19'),
    ]);
    expect(events[0]).toMatchObject({ code: 550, codeInferred: true, enhancedStatus: '5.1.1', enhancedStatusSource: 'dsn', reply: 'unknown user: "carol"', remote: null });
  });

  it('emits a NOQUEUE reject at once, with client and HELO', () => {
    const { events, beforeFlush } = correlate([
      L('08:00:00', 'smtpd', 'NOQUEUE: reject: RCPT from unknown[203.0.113.77]: 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in local recipient table; from=<a@example.org> to=<bob@example.com> proto=ESMTP helo=<client.example.org>'),
    ]);
    expect(beforeFlush).toBe(1);
    expect(events[0]).toMatchObject({
      direction: 'inbound',
      outcome: 'rejected',
      action: 'reject',
      sender: 'a@example.org',
      recipient: 'bob@example.com',
      client: { name: 'unknown', ip: '203.0.113.77', helo: 'client.example.org' },
      message: null,
    });
  });

  it('attaches a queue-ID RCPT reject to its message, whose other recipient was delivered', () => {
    const { events } = correlate([
      L('08:00:00', 'smtpd', '4C2D19A7E1: client=c.example.org[198.51.100.9]'),
      L('08:00:00', 'smtpd', '4C2D19A7E1: reject: RCPT from c.example.org[198.51.100.9]: 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown; from=<x@example.org> to=<nobody@example.com> proto=ESMTP helo=<c.example.org>'),
      L('08:00:01', 'cleanup', '4C2D19A7E1: message-id=<abc@example.org>'),
      L('08:00:01', 'qmgr', '4C2D19A7E1: from=<x@example.org>, size=500, nrcpt=1 (queue active)'),
      L('08:00:01', 'virtual', '4C2D19A7E1: to=<bob@example.com>, relay=virtual, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to maildir)'),
      removed('4C2D19A7E1', '08:00:02'),
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      direction: 'inbound',
      queueId: '4C2D19A7E1',
      messageId: 'abc@example.org',
      message: { complete: true, otherRecipients: [{ address: 'bob@example.com', status: 'sent' }] },
    });
  });

  it('closes a message refused at end of data by cleanup, inferring 550 from 5.7.1', () => {
    const { events, beforeFlush, stats } = correlate([
      L('08:00:00', 'smtpd', '4C2D19A7E1: client=s.example.net[198.51.100.14]'),
      L('08:00:01', 'cleanup', '4C2D19A7E1: message-id=<spam@example.net>'),
      L('08:00:01', 'cleanup', '4C2D19A7E1: milter-reject: END-OF-MESSAGE from s.example.net[198.51.100.14]: 5.7.1 Spam message rejected; from=<alice@example.net> to=<bob@example.com> proto=ESMTP helo=<s.example.net>'),
    ]);
    expect(beforeFlush).toBe(1);
    expect(stats.openAtEnd).toBe(0);
    expect(events[0]).toMatchObject({ code: 550, codeInferred: true, stage: 'end_of_data', messageId: 'spam@example.net', action: 'milter-reject' });
  });

  it('does not emit reject_warning (nothing was refused) but counts it', () => {
    const { events, stats } = correlate([
      L('08:00:00', 'smtpd', 'NOQUEUE: reject_warning: RCPT from x[198.51.100.2]: 550 5.1.1 <b@example.com>: no; from=<a@example.org> to=<b@example.com> proto=ESMTP helo=<x>'),
    ]);
    expect(events).toHaveLength(0);
    expect(stats.nonRefusingActions).toEqual({ reject_warning: 1 });
  });

  it('evicts idle messages in log time and flushes their events as incomplete', () => {
    const { events, stats, beforeFlush } = correlate(
      [...received('5D0B7F3A19'), bounced('5D0B7F3A19', 'dave@example.net'), ...received('6E0B7F3A19', '09:00:00')],
      { idleTimeoutMs: 30 * 60_000 },
    );
    expect(beforeFlush).toBe(1);
    expect(stats.evictedIdle).toBe(1);
    expect(events[0]!.message?.complete).toBe(false);
  });

  it('bounds open messages and counts the overflow', () => {
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) lines.push(...received(`AB${String(i).padStart(6, '0')}`));
    const { stats } = correlate(lines, { maxOpenMessages: 10 });
    expect(stats.evictedOverflow).toBe(40);
    expect(stats.openAtEnd).toBe(10);
  });

  it('keeps messages of different hosts apart', () => {
    const { events } = correlate([
      ...received('5D0B7F3A19', '08:00:00', 'one@example.com'),
      `Mar 11 08:00:00 mx2 postfix/qmgr[1]: 5D0B7F3A19: from=<two@example.com>, size=1, nrcpt=1 (queue active)`,
      `Mar 11 08:00:01 mx2 postfix/smtp[1]: 5D0B7F3A19: to=<z@example.net>, relay=mx.example.net[203.0.113.25]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx.example.net[203.0.113.25] said: 550 5.1.1 no (in reply to RCPT TO command))`,
    ]);
    expect(events[0]).toMatchObject({ sender: 'two@example.com', mta: { host: 'mx2' } });
  });

  it('gives deterministic event IDs', () => {
    const a = correlate([...received('5D0B7F3A19'), bounced('5D0B7F3A19', 'dave@example.net')]).events[0]!.id;
    const b = correlate([...received('5D0B7F3A19'), bounced('5D0B7F3A19', 'dave@example.net')]).events[0]!.id;
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{20}$/);
  });
});
