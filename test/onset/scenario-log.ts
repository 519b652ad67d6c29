/**
 * A seeded generator of Postfix logs with known onsets (ONSETS.md 4.1): messages from an app through
 * one of our relays to several recipient domains, base failure rates per domain, and an injected
 * change. Returns the log text and the truth.
 */
import { poisson, rng } from '../random.js';

export interface ScenarioSpec {
  seed: number;
  /** Simulated minutes, and messages per minute to each domain. */
  minutes: number;
  perMinute: Record<string, number>;
  /** Base failure rate of every domain (DMARC refusals at end of data). */
  baseRate: number;
  /** The injected change: from `atMinute`, `domain`'s rate on `viaRelay` becomes `rate`. */
  change?: {
    atMinute: number;
    domain: string;
    rate: number;
    /** Relay switch at the same time: this share of all mail moves to the new relay. */
    relaySwitch?: { to: string; share: number };
  };
  /** Volume x`factor` for every domain between these minutes, rates unchanged. */
  surge?: { fromMinute: number; toMinute: number; factor: number };
  /**
   * Other scenarios of ONSETS.md 4.1, from `atMinute`:
   * - `list_import`: a campaign from a new sender domain (`perMinute` more messages, spread over
   *   the domains) to a bought list: `rate` of its recipients do not exist (550 5.1.1);
   * - `ip_blocklisted`: `domain`'s provider blocks our relay's IP (550 5.7.606 banned sending IP)
   *   for `rate` of its mail;
   * - `migration`: `domain` moves its MX from a Google-like to a Microsoft-like host; `rate` of its
   *   addresses were not migrated (550 5.1.10 RecipientNotFound).
   */
  scenario?: { kind: 'list_import' | 'ip_blocklisted' | 'migration'; atMinute: number; domain: string; rate: number; perMinute?: number };
}

export const SCENARIO_START = Date.UTC(2024, 2, 4, 6, 0, 0);
const OLD_RELAY = { name: 'mx1.old.example', ip: '192.0.2.50' };
const NEW_RELAY = { name: 'smtp.esp.example', ip: '198.51.100.80' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function stamp(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} mx1`;
}

export function scenarioLog(spec: ScenarioSpec): { text: string; truth: { onsetAt: number | null; domain: string | null; changedAt: number | null } } {
  const r = rng(spec.seed);
  const lines: string[] = [];
  let qid = 0x1000000000 + spec.seed * 0x10000;
  const dmarc = (relay: string, ip: string) =>
    `host ${relay}[${ip}] said: 550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's 550-5.7.26 DMARC policy. 550 5.7.26 see https://support.google.com/mail/?p=DmarcRejection x1si - gsmtp (in reply to end of DATA command)`;
  for (let m = 0; m < spec.minutes; m++) {
    const surge = spec.surge !== undefined && m >= spec.surge.fromMinute && m < spec.surge.toMinute ? spec.surge.factor : 1;
    const messages: { t: number; domain: string; campaign?: boolean }[] = [];
    for (const [domain, perMinute] of Object.entries(spec.perMinute)) {
      const n = poisson(r, perMinute * surge);
      for (let i = 0; i < n; i++) messages.push({ t: SCENARIO_START + m * 60_000 + Math.floor(r() * 60_000), domain });
    }
    const sc = spec.scenario;
    const active = sc !== undefined && m >= sc.atMinute;
    if (active && sc.kind === 'list_import') {
      const domains = Object.keys(spec.perMinute);
      const n = poisson(r, sc.perMinute ?? 20);
      for (let i = 0; i < n; i++) messages.push({ t: SCENARIO_START + m * 60_000 + Math.floor(r() * 60_000), domain: domains[Math.floor(r() * domains.length)]!, campaign: true });
    }
    messages.sort((a, b) => a.t - b.t);
    for (const msg of messages) {
      if (sc !== undefined && (msg.campaign === true || (sc.kind !== 'list_import' && msg.domain === sc.domain))) {
        lines.push(...scenarioMessage(sc, active, msg, (qid++).toString(16).toUpperCase(), r));
        continue;
      }
      const id = (qid++).toString(16).toUpperCase();
      const changed = spec.change !== undefined && m >= spec.change.atMinute;
      const switched = changed && spec.change!.relaySwitch !== undefined && r() < spec.change!.relaySwitch.share;
      const relay = switched ? NEW_RELAY : OLD_RELAY;
      const rate = changed && msg.domain === spec.change!.domain && (spec.change!.relaySwitch === undefined || switched) ? spec.change!.rate : spec.baseRate;
      const rcpts = r() < 0.2 ? 2 : 1;
      const ts = stamp(msg.t);
      lines.push(`${ts} postfix/smtpd[2100]: ${id}: client=app01.example.com[192.0.2.21]`);
      lines.push(`${ts} postfix/cleanup[2200]: ${id}: message-id=<${id.toLowerCase()}@example.com>`);
      lines.push(`${ts} postfix/qmgr[1100]: ${id}: from=<noreply@example.com>, size=4200, nrcpt=${rcpts} (queue active)`);
      // A DMARC refusal refuses the whole message: every recipient at the domain together.
      const failed = r() < rate;
      for (let i = 0; i < rcpts; i++) {
        const to = `u${Math.floor(r() * 1e7)}@${msg.domain}`;
        if (failed) {
          const reply = msg.domain.startsWith('gmail')
            ? dmarc(relay.name, relay.ip)
            : `host ${relay.name}[${relay.ip}] said: 550 5.7.1 <${to}>: Message rejected: DMARC policy of example.com is reject (in reply to end of DATA command)`;
          lines.push(`${ts} postfix/smtp[3001]: ${id}: to=<${to}>, relay=${relay.name}[${relay.ip}]:25, delay=1.1, delays=0.1/0/0.5/0.5, dsn=${msg.domain.startsWith('gmail') ? '5.7.26' : '5.7.1'}, status=bounced (${reply})`);
        } else {
          lines.push(`${ts} postfix/smtp[3001]: ${id}: to=<${to}>, relay=${relay.name}[${relay.ip}]:25, delay=0.9, delays=0.1/0/0.4/0.4, dsn=2.0.0, status=sent (250 2.0.0 OK ${id})`);
        }
      }
      lines.push(`${ts} postfix/qmgr[1100]: ${id}: removed`);
    }
  }
  const T = spec.change === undefined ? null : SCENARIO_START + spec.change.atMinute * 60_000;
  return {
    text: lines.join('\n') + '\n',
    truth: { onsetAt: T, domain: spec.change?.domain ?? null, changedAt: spec.change?.relaySwitch === undefined ? null : T },
  };
}

/** The lines of one message of a scenario's domain or campaign (see `ScenarioSpec.scenario`). */
function scenarioMessage(sc: NonNullable<ScenarioSpec['scenario']>, active: boolean, msg: { t: number; domain: string; campaign?: boolean }, id: string, r: () => number): string[] {
  const ts = stamp(msg.t);
  const sender = msg.campaign === true ? 'news@news.example.net' : 'noreply@example.com';
  const to = `u${Math.floor(r() * 1e7)}@${msg.domain}`;
  let host = OLD_RELAY;
  let refusal: { dsn: string; reply: string } | null = null;
  if (sc.kind === 'list_import') {
    if (r() < sc.rate) refusal = { dsn: '5.1.1', reply: `550 5.1.1 <${to}>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)` };
  } else if (sc.kind === 'ip_blocklisted') {
    host = { name: `${msg.domain.replace(/\./g, '-')}.mail.protection.outlook.com`, ip: '203.0.113.45' };
    if (active && r() < sc.rate) refusal = { dsn: '5.7.606', reply: `550 5.7.606 Access denied, banned sending IP [${OLD_RELAY.ip}]. To request removal from this list please visit https://sender.office.com/ and follow the directions. (AS16012609) (in reply to RCPT TO command)` };
  } else {
    host = active ? { name: `${msg.domain.replace(/\./g, '-')}.mail.protection.outlook.com`, ip: '203.0.113.46' } : { name: 'gmail-smtp-in.l.google.com', ip: '198.51.100.27' };
    if (active && r() < sc.rate) refusal = { dsn: '5.1.10', reply: `550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ${to} not found by SMTP address lookup (in reply to RCPT TO command)` };
  }
  const out = [
    `${ts} postfix/smtpd[2100]: ${id}: client=app01.example.com[192.0.2.21]`,
    `${ts} postfix/cleanup[2200]: ${id}: message-id=<${id.toLowerCase()}@example.com>`,
    `${ts} postfix/qmgr[1100]: ${id}: from=<${sender}>, size=4200, nrcpt=1 (queue active)`,
  ];
  out.push(
    refusal === null
      ? `${ts} postfix/smtp[3001]: ${id}: to=<${to}>, relay=${host.name}[${host.ip}]:25, delay=0.9, delays=0.1/0/0.4/0.4, dsn=2.0.0, status=sent (250 2.0.0 OK ${id})`
      : `${ts} postfix/smtp[3001]: ${id}: to=<${to}>, relay=${host.name}[${host.ip}]:25, delay=1.1, delays=0.1/0/0.5/0.5, dsn=${refusal.dsn}, status=bounced (host ${host.name}[${host.ip}] said: ${refusal.reply})`,
  );
  out.push(`${ts} postfix/qmgr[1100]: ${id}: removed`);
  return out;
}
