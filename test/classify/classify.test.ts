/** The decision procedure of TAXONOMY.md 6 and the confidence rules of 7, one behaviour per row. */
import { describe, expect, it } from 'vitest';
import { classify, type ClassifyInput } from '../../src/classify/classify.js';
import { SUBTYPE_INFO, SUBTYPES } from '../../src/classify/subtypes.js';

const out = (reply: string, more: Partial<ClassifyInput> = {}) => classify({ reply, direction: 'outbound', ...more });

describe('classify: decision procedure', () => {
  it('lets a provider token beat a generic code (6.2)', () => {
    const c = out('553 5.7.1 [BL21] Connections will not be accepted from 203.0.113.7, because the ip is in Spamhaus\'s list', { remoteHost: 'mta5.am0.yahoodns.net' });
    expect(c).toMatchObject({ subtype: 'blocklisted', provider: 'yahoo', confidence: 'high', rule: 'yahoo.bl-list' });
  });

  it('reads a provider-bent code by the provider (EXO 5.1.10 vs RFC 7505)', () => {
    expect(out('550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found', { remoteHost: 'x.mail.protection.outlook.com' }).subtype).toBe('recipient_unknown');
    expect(out('550 5.1.10 Recipient address has null MX', { remoteHost: 'mx.example.org' }).subtype).toBe('recipient_domain_invalid');
    expect(out("550 5.7.27 Your email has been blocked because the sender is unauthenticated - gsmtp").subtype).toBe('sender_auth_failed');
  });

  it('lets strong text beat a generic code (6.3)', () => {
    expect(out('550 5.7.1 <bob@example.net>: Relay access denied', { stage: 'rcpt' })).toMatchObject({ subtype: 'relay_denied', confidence: 'high' });
  });

  it('lets a specific code beat weak text (6.4)', () => {
    expect(out('550 5.1.1 Access denied', { stage: 'rcpt' })).toMatchObject({ subtype: 'recipient_unknown', confidence: 'medium', rule: 'code.5.1.1' });
  });

  it('lets text naming a mechanism beat a disagreeing specific code, with low confidence (6.5)', () => {
    expect(out('550 5.1.1 <bob@example.net>: rejected, blocked using zen.example.org', { stage: 'rcpt' })).toMatchObject({ subtype: 'blocklisted', confidence: 'low' });
    expect(out('550 5.1.1 <bob@example.net>... too many recipients this hour', { stage: 'rcpt' })).toMatchObject({ subtype: 'rate_limited', confidence: 'low' });
  });

  it('reads "Recipient address rejected: Access denied" by provider (6.6)', () => {
    expect(out('550 5.4.1 Recipient address rejected: Access denied. AS(201806281)', { remoteHost: 'x.mail.protection.outlook.com' }).subtype).toBe('recipient_unknown');
    expect(out('550 5.7.1 <bob@example.org>: Recipient address rejected: Access denied', { remoteHost: 'mx.example.org' }).subtype).toBe('recipient_restricted');
  });

  it('reads "Client host rejected: Access denied" as client_host_rejected, with a list as blocklisted (6.7)', () => {
    expect(out('554 5.7.1 <unknown[203.0.113.9]>: Client host rejected: Access denied', { stage: 'connect' }).subtype).toBe('client_host_rejected');
    expect(out('554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using zen.example.org; Client host rejected: Access denied').subtype).toBe('blocklisted');
  });

  it('never guesses: a generic refusal stays other_or_unclassified with the raw text (6.8)', () => {
    for (const reply of ['550 5.7.1 Access denied', '554 Transaction failed', '550 Blocked', '550 5.0.0 Rejected']) {
      expect(out(reply), reply).toMatchObject({ subtype: 'other_or_unclassified', detail: 'generic_policy', rule: 'fallback' });
    }
    expect(out('550 5.5.2 Syntax error')).toMatchObject({ subtype: 'other_or_unclassified', detail: 'protocol_error' });
  });

  it('splits quota into mailbox_full and rate_limited (6.9)', () => {
    expect(out('552 5.2.2 <bob@example.net>: Mailbox full').subtype).toBe('mailbox_full');
    expect(out('550 5.2.2 Submission quota exceeded', { remoteHost: 'x.mail.protection.outlook.com' }).subtype).toBe('rate_limited');
    expect(out('550 5.4.5 Daily user sending quota exceeded.').subtype).toBe('rate_limited');
  });

  it('breaks ties within a tier by the stage', () => {
    // "Sender verify failed" explicitly names the sender, even at RCPT with a nested "User unknown".
    expect(out('550-Verification failed for <b@example.com> 550-Response: 550 5.1.1 User unknown 550 Sender verify failed', { stage: 'rcpt' }).subtype).toBe('sender_address_invalid');
    // An address complaint at MAIL FROM is about the sender when the code says so.
    expect(out('501 5.1.7 Invalid address', { stage: 'mail' }).subtype).toBe('sender_address_invalid');
  });

  it('uses 530/534/535/538 as authentication failures', () => {
    expect(out('535 Incorrect authentication data').subtype).toBe('auth_required');
  });

  it('takes the stage and host from the MTA wrapper when the caller has none', () => {
    const c = out('host mx.example.net[203.0.113.25] said: 550 5.1.1 <dave@example.net>: User unknown (in reply to RCPT TO command)');
    expect(c).toMatchObject({ subtype: 'recipient_unknown', stage: 'rcpt', confidence: 'high', code: 550, enhancedStatus: '5.1.1' });
  });

  it('lowers confidence when the stage contradicts the text', () => {
    expect(out('550 5.7.1 Message content rejected as spam', { stage: 'connect' })).toMatchObject({ subtype: 'spam_content', confidence: 'low' });
  });

  it('gives medium confidence when the provider is known only from the recipient domain', () => {
    expect(out('550 5.7.27 sender unauthenticated', { recipientDomain: 'gmail.com' })).toMatchObject({ provider: 'google', providerVia: 'recipient_domain', confidence: 'medium' });
  });

  it('marks our own refusals as provider self', () => {
    expect(classify({ reply: '550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient table', direction: 'inbound', stage: 'rcpt' })).toMatchObject({
      provider: 'self',
      providerVia: 'self',
      subtype: 'recipient_unknown',
      confidence: 'high',
    });
  });

  it('lists its evidence: code, enhanced code, stage, provider and the deciding marker', () => {
    const c = out('550 5.7.1 Service unavailable; client [203.0.113.140] blocked using zen.example.org', { stage: 'rcpt', remoteHost: 'mx.example.org' });
    expect(c.evidence.map((e) => e.kind)).toEqual(['code', 'enhanced_code', 'stage', 'provider', 'text_marker']);
    expect(c.evidence.at(-1)).toEqual({ kind: 'text_marker', value: 'blocked using', via: 'generic.blocked-using' });
    expect(c.detail).toBe('listed_entity=ip');
  });

  it('lowers confidence for a reply cut short', () => {
    expect(out('550 5.1.1 <bob@example.net>: User unknown in virtual...', { stage: 'rcpt' }).confidence).toBe('medium');
  });

  it('knows every subtype: side and next move', () => {
    expect(SUBTYPES).toHaveLength(22);
    for (const s of SUBTYPES) {
      expect(SUBTYPE_INFO[s].nextMove.length).toBeGreaterThan(20);
      expect(SUBTYPE_INFO[s].side).toBeTruthy();
    }
  });

  it('never throws on odd input', () => {
    for (const reply of ['', ' ', '550', '5.7.1', '(in reply to RCPT TO command)', 'host  said: ', 'x'.repeat(100_000), '550-'.repeat(10_000)]) {
      expect(() => out(reply)).not.toThrow();
    }
  });
});
