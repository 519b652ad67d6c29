import { describe, expect, it } from 'vitest';
import { ResentDetector } from '../../src/findings/resent.js';
import type { DeliveryAttempt, RejectionEvent } from '../../src/model/event.js';

const refusal = (over: Partial<RejectionEvent>): RejectionEvent =>
  ({
    id: 'e1',
    time: '2024-11-03T08:12:55.000Z',
    source: { format: 'app', file: 'app.log', line: 7, offset: 100, identity: 'a' },
    mta: { host: 'app01', program: 'mailer', daemon: 'nodemailer' },
    direction: 'submission',
    messageId: 'm1@app.example.com',
    recipient: 'carol@example.net',
    code: 550,
    reply: '550 5.7.1 Message rejected',
    remote: { name: 'smtp.esp.example', ip: null, port: null },
    relay: 'smtp.esp.example',
    ...over,
  }) as RejectionEvent;

const sent = (over: Partial<DeliveryAttempt>): DeliveryAttempt => ({
  timeMs: Date.parse('2024-11-03T08:20:00Z'),
  mtaHost: 'mx1',
  messageKey: 'ABC123',
  recipient: 'carol@example.net',
  recipientDomain: 'example.net',
  status: 'sent',
  code: 250,
  enhancedStatus: '2.0.0',
  reply: '250 ok',
  stage: 'end_of_data',
  remoteHost: 'mx.example.net',
  remoteIp: '198.51.100.25',
  sender: 'orders@example.com',
  clientIp: null,
  messageId: 'm1@app.example.com',
  ...over,
});

describe('resent through another path', () => {
  it("finds an app's refused message delivered later by our relay, in either order of the inputs", () => {
    for (const order of ['refusal first', 'delivery first']) {
      const d = new ResentDetector();
      const steps = [() => d.event(refusal({})), () => d.attempt(sent({}))];
      if (order === 'delivery first') steps.reverse();
      for (const s of steps) s();
      const [f, ...rest] = d.build();
      expect(rest).toEqual([]);
      expect(f).toMatchObject({
        kind: 'resent_other_path',
        subject: { messageId: 'm1@app.example.com', refusedPath: 'app app01 via smtp.esp.example', deliveredPath: 'mx1 via mx.example.net', recipient: 'carol@example.net' },
        counts: { deliveries: 1, refusedAt: '2024-11-03T08:12:55.000Z', deliveredAt: '2024-11-03T08:20:00.000Z' },
        examples: [{ file: 'app.log', line: 7 }],
      });
      expect(f!.id).toMatch(/^resent_other_path:[0-9a-f]{12}$/);
    }
  });

  it('finds nothing for a delivery before the refusal, through the same path, of another message, or after an inbound refusal', () => {
    const cases: [Partial<RejectionEvent>, Partial<DeliveryAttempt>][] = [
      [{}, { timeMs: Date.parse('2024-11-03T08:00:00Z') }],
      [{ direction: 'outbound', mta: { host: 'mx1', program: null, daemon: 'smtp' }, remote: { name: 'mx.example.net', ip: null, port: null } }, {}],
      [{ messageId: 'other@app.example.com' }, {}],
      [{ direction: 'inbound' }, {}],
      [{ code: 450 }, {}],
      // Another recipient of the same message delivered elsewhere: not a re-send of the refused one.
      [{}, { recipient: 'dave@example.net' }],
      // A content filter's hand-off on loopback, and a hop in the same instant as the refusal.
      [{}, { remoteHost: null, remoteIp: '127.0.0.1' }],
      [{}, { timeMs: Date.parse('2024-11-03T08:12:55Z') }],
      // A delivery whose MTA logged no Message-ID for its message cannot be joined.
      [{}, { messageId: null }],
      [{}, { messageId: '' }],
    ];
    for (const [e, a] of cases) {
      const d = new ResentDetector();
      d.event(refusal(e));
      d.attempt(sent(a));
      expect(d.build()).toEqual([]);
    }
  });

  it('stays within its bounds (the oldest messages leave)', () => {
    const d = new ResentDetector({ maxDeliveries: 2 });
    d.attempt(sent({ messageKey: 'K1', timeMs: Date.parse('2024-11-03T08:20:00Z') }));
    d.attempt(sent({ messageKey: 'K2', messageId: 'm2@app.example.com' }));
    d.attempt(sent({ messageKey: 'K3', messageId: 'm3@app.example.com' }));
    // m1's delivery left the table before its refusal was read.
    d.event(refusal({}));
    expect(d.build()).toEqual([]);
    // Within the bounds, the same sequence joins.
    const e = new ResentDetector({ maxDeliveries: 2 });
    e.attempt(sent({ messageKey: 'K1' }));
    e.attempt(sent({ messageKey: 'K2', messageId: 'm2@app.example.com' }));
    e.event(refusal({}));
    expect(e.build()).toHaveLength(1);
  });

  it('counts every later delivery of the refused recipient through the other path', () => {
    const d = new ResentDetector();
    d.event(refusal({}));
    d.attempt(sent({ recipient: 'carol@example.net' }));
    d.attempt(sent({ recipient: 'carol@example.net', timeMs: Date.parse('2024-11-03T08:21:00Z') }));
    const [f] = d.build();
    expect(f).toMatchObject({ subject: { deliveredPath: 'mx1 via mx.example.net' }, counts: { deliveries: 2 } });
  });

  it('finds a message among many deliveries, after the ring wrapped, and only its own recipient', () => {
    const d = new ResentDetector({ maxDeliveries: 1000 });
    d.event(refusal({ messageId: 'target@app.example.com' }));
    for (let i = 0; i < 5000; i++) {
      d.attempt(sent({ messageKey: `K${i}`, messageId: `m${i}@app.example.com`, recipient: `r${i}@example.net` }));
      if (i === 4500) {
        d.attempt(sent({ messageKey: 'T1', messageId: 'target@app.example.com', recipient: 'someone.else@example.net' }));
        d.attempt(sent({ messageKey: 'T2', messageId: 'target@app.example.com', recipient: 'Carol@Example.net', timeMs: Date.parse('2024-11-03T08:30:00Z') }));
      }
    }
    const [f, ...rest] = d.build();
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ counts: { deliveries: 1, deliveredAt: '2024-11-03T08:30:00.000Z' } });
    // A delivery overwritten by 1,000 later ones is gone.
    const e = new ResentDetector({ maxDeliveries: 1000 });
    e.event(refusal({ messageId: 'target@app.example.com' }));
    e.attempt(sent({ messageKey: 'T2', messageId: 'target@app.example.com' }));
    for (let i = 0; i < 1000; i++) e.attempt(sent({ messageKey: `K${i}`, messageId: `m${i}@app.example.com` }));
    expect(e.build()).toEqual([]);
  });
});
