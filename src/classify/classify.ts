/**
 * The classifier: a pure function from a reply (and what the log tells around it) to a subtype,
 * the side that must act, the provider that answered, a confidence, the evidence used and the next
 * move. It implements TAXONOMY.md 6 as a walk over tables, in this order:
 *
 *   1. normalise the reply (wrapper, multi-line prefixes, code and enhanced status);
 *   2. find the provider (host suffix, then text tokens, then the recipient domain);
 *   3. the provider's own table first: its tokens and the codes it bends (EXO 5.1.10, Gmail 5.7.27);
 *   4. generic text markers, in tiers; within a tier the stage breaks ties;
 *   5. a specific enhanced code when the text names no cause ("Access denied" is weak text);
 *   6. otherwise `other_or_unclassified`, the raw reply kept: nothing is guessed.
 */
import type { Stage } from '../model/records.js';
import { normaliseReply, type NormalisedReply } from './normalise.js';
import { detectProvider, type ProviderId, type ProviderSource } from './providers.js';
import { GENERIC_CODES, SPECIFIC_CODES, SPECIFIC_REPLY_CODES, WEAK_TEXT } from './rules/codes.js';
import { MARKERS } from './rules/markers.js';
import { PROVIDER_RULES } from './rules/providers/index.js';

/** Exchange's own component texts (`RESOLVER.ADR.RecipNotFound`, `STOREDRV.Deliver`, `QUEUE.Expired`, ...), in the normalised lower-case reply. */
const EXCHANGE_OWN_TEXT = /\b(?:resolver\.(?:adr|rst)|storedrv|queue\.expired|routing\.|smtpsend\.|cat\.)/i;
import type { Marker, Rule } from './rules/types.js';
import { SUBTYPE_INFO, type Side, type SubtypeId } from './subtypes.js';

export type Confidence = 'high' | 'medium' | 'low';

export interface Evidence {
  kind: 'code' | 'enhanced_code' | 'provider_token' | 'text_marker' | 'stage' | 'provider';
  value: string;
  /** For `provider`: how it was found (`host`, `text`, `recipient_domain`, `self`). For markers: the rule id. */
  via?: string;
}

export interface ClassifyInput {
  /** The reply as logged; MTA wrappers are stripped here. */
  reply: string;
  /** `submission` (an app refused by its relay or provider) is read like `outbound`: the other side answered. */
  direction: 'inbound' | 'outbound' | 'submission';
  /** Known from the log line (Postfix `(in reply to ...)`, smtpd's stage word); else read from the wrapper. */
  stage?: Stage | null;
  /** The three-digit code when the log gave it apart from the text. */
  code?: number | null;
  /** The enhanced status when the log gave it apart from the text (e.g. Postfix `dsn=`). */
  enhancedStatus?: string | null;
  remoteHost?: string | null;
  recipientDomain?: string | null;
}

export interface Classification {
  subtype: SubtypeId;
  side: Side;
  provider: ProviderId;
  providerVia: ProviderSource;
  confidence: Confidence;
  evidence: Evidence[];
  nextMove: string;
  detail: string | null;
  /** The rule that decided (a provider rule, a marker, `code.X.Y.Z` or `fallback`). */
  rule: string;
  stage: Stage | null;
  code: number | null;
  enhancedStatus: string | null;
  /** The reply's words after normalisation. */
  text: string;
}

/** Stage -> the subtypes a refusal at that stage is "tied to" (TAXONOMY.md 6.3 tie-break). */
function tiedToStage(subtype: SubtypeId, stage: Stage | null): boolean {
  if (stage === null) return false;
  if (stage === 'mail') return subtype.startsWith('sender_');
  if (stage === 'rcpt' || stage === 'vrfy') return subtype.startsWith('recipient_') || subtype === 'mailbox_full' || subtype === 'relay_denied';
  if (stage === 'data' || stage === 'end_of_data') return SUBTYPE_INFO[subtype].side === 'content';
  if (stage === 'connect' || stage === 'helo') return SUBTYPE_INFO[subtype].side === 'reputation';
  return false;
}

type Fit = 'fits' | 'contradicts' | 'unknown';

function stageFit(subtype: SubtypeId, stage: Stage | null): Fit {
  if (stage === null || stage === 'unknown' || stage === 'other') return 'unknown';
  return SUBTYPE_INFO[subtype].stages.includes(stage) ? 'fits' : 'contradicts';
}

function ruleMatches(rule: Rule, n: NormalisedReply, enhanced: string | null, code: number | null): RegExpExecArray | true | null {
  if (rule.enhanced !== undefined && (enhanced === null || !rule.enhanced.test(enhanced))) return null;
  if (rule.code !== undefined && (code === null || !rule.code.test(String(code)))) return null;
  if (rule.text !== undefined) return rule.text.exec(n.lower);
  return true;
}

function lower(c: Confidence): Confidence {
  return c === 'high' ? 'medium' : 'low';
}

/** Picks the marker that decides: the lowest tier; within it, one tied to the stage. */
function pickMarker(hits: { marker: Marker; match: string }[], stage: Stage | null): { marker: Marker; match: string } | null {
  if (hits.length === 0) return null;
  // All hits share the lowest tier (the walk stops at the first tier with a hit).
  return hits.find((h) => tiedToStage(h.marker.subtype, stage)) ?? hits[0]!;
}

/**
 * Replies repeat (a provider's DMARC refusal for every recipient of a campaign, a deferral on every
 * retry): the last results are kept by their full input. 4,096 entries of about 1 KiB each.
 */
const MEMO_SIZE = 4096;
const memo = new Map<string, Classification>();

/** Empties the memo (benchmarks measure cold classification with it). */
export function clearClassifyMemo(): void {
  memo.clear();
}

/** Classifies a reply; results are shared between equal inputs and must not be mutated. */
export function classify(input: ClassifyInput): Classification {
  const key = `${input.direction}\u0000${input.stage ?? ''}\u0000${input.code ?? ''}\u0000${input.enhancedStatus ?? ''}\u0000${input.remoteHost ?? ''}\u0000${input.recipientDomain ?? ''}\u0000${input.reply}`;
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  const c = decide(input);
  if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value as string);
  memo.set(key, c);
  return c;
}

function decide(input: ClassifyInput): Classification {
  const n = normaliseReply(input.reply);
  const code = n.code ?? input.code ?? null;
  const enhanced = n.enhanced ?? input.enhancedStatus ?? null;
  const stage = input.stage !== undefined && input.stage !== null && input.stage !== 'unknown' ? input.stage : n.stage;
  const remoteHost = input.remoteHost ?? n.remoteHost;
  const provider = detectProvider({
    direction: input.direction,
    remoteHost,
    text: n.text,
    recipientDomain: input.recipientDomain ?? null,
  });

  const evidence: Evidence[] = [];
  if (code !== null) evidence.push({ kind: 'code', value: String(code) });
  if (enhanced !== null) evidence.push({ kind: 'enhanced_code', value: enhanced });
  if (stage !== null) evidence.push({ kind: 'stage', value: stage });
  evidence.push({ kind: 'provider', value: provider.provider, via: provider.via + (provider.value !== null ? `:${provider.value}` : '') });

  const result = (subtype: SubtypeId, confidence: Confidence, rule: string, detail: string | null = null): Classification => {
    let c = confidence;
    if (n.truncated && c !== 'low') c = lower(c);
    const info = SUBTYPE_INFO[subtype];
    return {
      subtype,
      side: info.side,
      provider: provider.provider,
      providerVia: provider.via,
      confidence: c,
      evidence,
      nextMove: info.nextMove,
      detail,
      rule,
      stage,
      code,
      enhancedStatus: enhanced,
      text: n.text,
    };
  };

  // 3. The provider's own table: tokens and bent codes. A refusal by our own Exchange server (inbound,
  // provider `self`) speaks Exchange's language: its component texts take Microsoft's table.
  const table = PROVIDER_RULES[provider.provider] ?? (provider.provider === 'self' && EXCHANGE_OWN_TEXT.test(n.text) ? PROVIDER_RULES.microsoft : undefined);
  if (table !== undefined) {
    for (const rule of table) {
      const m = ruleMatches(rule, n, enhanced, code);
      if (m === null) continue;
      evidence.push({ kind: 'provider_token', value: m === true ? (enhanced ?? rule.id) : m[0], via: rule.id });
      let c: Confidence = provider.via === 'recipient_domain' ? 'medium' : 'high';
      if (stageFit(rule.subtype, stage) === 'contradicts') c = lower(c);
      return result(rule.subtype, c, rule.id, rule.detail ?? null);
    }
  }

  // 4. Generic text markers.
  // MARKERS is ordered by tier: once a tier has hits, later tiers cannot win.
  const hits: { marker: Marker; match: string }[] = [];
  for (const marker of MARKERS) {
    if (hits.length > 0 && marker.tier > hits[0]!.marker.tier) break;
    const m = marker.text.exec(n.lower);
    if (m !== null) hits.push({ marker, match: m[0] });
  }
  const picked = pickMarker(hits, stage);
  const byEnhanced = enhanced === null ? undefined : SPECIFIC_CODES.get(enhanced);
  const byCode = byEnhanced ?? (code === null ? undefined : SPECIFIC_REPLY_CODES.get(code));
  const codeRule = byEnhanced !== undefined ? `code.${enhanced}` : `code.${code}`;

  if (picked !== null) {
    const { marker, match } = picked;
    evidence.push({ kind: 'text_marker', value: match, via: marker.id });
    const fit = stageFit(marker.subtype, stage);
    let c: Confidence;
    if (byCode !== undefined && byCode.subtype !== marker.subtype && byCode.subtype !== 'other_or_unclassified') {
      // Both specific and disagreeing. When the stage sides with the code against the text (an
      // "invalid address" answered to MAIL FROM with 5.1.7), the code wins; otherwise the text
      // naming a mechanism wins (6.5). Either way with low confidence.
      if (fit === 'contradicts' && stageFit(byCode.subtype, stage) === 'fits') {
        return result(byCode.subtype, 'low', codeRule, byCode.detail ?? null);
      }
      c = 'low';
    } else if (byCode !== undefined && byCode.subtype === marker.subtype) {
      c = fit === 'contradicts' ? 'medium' : 'high';
    } else if (fit === 'contradicts') {
      c = 'low';
    } else if (marker.strong && fit === 'fits') {
      c = 'high';
    } else {
      c = 'medium';
    }
    const detail = marker.detail ?? (marker.subtype === byCode?.subtype ? (byCode.detail ?? null) : null);
    return result(marker.subtype, c, marker.id, detail);
  }

  // 5. A specific code over weak text.
  if (byCode !== undefined) {
    const fit = stageFit(byCode.subtype, stage);
    const weak = WEAK_TEXT.test(n.lower);
    let c: Confidence = fit === 'fits' && !weak ? 'high' : 'medium';
    if (fit === 'contradicts') c = 'low';
    return result(byCode.subtype, c, codeRule, byCode.detail ?? null);
  }

  // 6. Nothing usable: keep the raw reply, say what kind of nothing it is.
  const generic = enhanced === null || GENERIC_CODES.has(enhanced) || enhanced.startsWith('5.7.');
  const onlyWeak = n.text === '' || WEAK_TEXT.test(n.lower) || n.text.length < 25;
  const detail = enhanced !== null && enhanced.startsWith('5.5.') ? 'protocol_error' : generic ? 'generic_policy' : null;
  return result('other_or_unclassified', onlyWeak ? 'medium' : 'low', 'fallback', detail);
}
