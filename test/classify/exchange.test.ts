/**
 * Exchange's own texts (#5 item 4): when our Exchange server fails a recipient (inbound, provider
 * `self`), its component texts are read with Microsoft's rules.
 */
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/classify/classify.js';

const inbound = (reply: string) => classify({ reply, direction: 'inbound' });

describe('our own Exchange server', () => {
  it.each([
    ['550 5.1.1 RESOLVER.ADR.RecipNotFound; not found', 'recipient_unknown'],
    ['550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found', 'recipient_unknown'],
    ['550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup', 'recipient_unknown'],
    ['550 5.2.2 STOREDRV.Deliver: mailbox full', 'mailbox_full'],
    ['550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized', 'recipient_restricted'],
    ['550 5.7.1 RESOLVER.RST.AuthRequired; authentication required', 'auth_required'],
    ['550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient', 'message_too_large'],
    ['550 5.3.4 ROUTING.SizeLimit; message size exceeds fixed maximum size for route', 'message_too_large'],
    ['550 5.7.3 STOREDRV.Submit.Exception:SubmissionQuotaExceededException', 'rate_limited'],
    ['550 4.4.7 QUEUE.Expired; message expired', 'other_or_unclassified'],
  ])('%s -> %s, high confidence, provider self', (reply, subtype) => {
    const c = inbound(reply);
    expect(c).toMatchObject({ subtype, provider: 'self', confidence: 'high' });
  });

  it('leaves other servers\' texts to the generic markers (no Exchange token, no Microsoft table)', () => {
    expect(inbound('550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.').rule).not.toMatch(/^microsoft\./);
    expect(inbound('550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in local recipient table').rule).not.toMatch(/^microsoft\./);
  });
});
