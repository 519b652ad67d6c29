/**
 * Findings (#14): answers to the operator's next questions after a 550, built from the events and
 * delivery attempts of a run: "are we retrying it anyway?", "did one bad address sink a whole
 * send?", "did it arrive later some other way?", "why only this one customer domain?", "is our
 * sender set up right?". Each has a stable id, a severity, the evidence and the next move.
 */

export type FindingKind =
  /** The same sender -> recipient (or the same Message-ID) refused with a 5xx and submitted again. */
  | 'retry_after_permanent'
  /** Some recipients of one message refused and others accepted, or a whole send failed for one recipient. */
  | 'poisoned_multi_recipient'
  /** A Message-ID refused on one path and later delivered through another relay or MTA. */
  | 'resent_other_path'
  /** A subtype concentrated on one recipient domain or provider while others accept the same mail. */
  | 'one_domain_only'
  /** `--check-dns`: SPF, DMARC, MX or PTR missing or misaligned for a sender behind refusals. */
  | 'sender_posture';

export type Severity = 'high' | 'medium' | 'low';

/** One line of evidence: where it was logged and what it says. */
export interface EvidenceLine {
  file: string;
  line: number;
  time: string | null;
  text: string;
}

export interface Finding {
  /**
   * Stable across runs over the same logs: `<kind>:<hash of the finding's key>` (the key names what
   * the finding is about: the sender and recipient, the Message-ID, the domain and subtype...).
   */
  id: string;
  kind: FindingKind;
  severity: Severity;
  /** One sentence: what was found. */
  title: string;
  /** What the finding is about, for filtering: sender, recipient, domain, messageId, subtype, provider... */
  subject: Record<string, string | null>;
  /** Counts and times behind it (attempts, wasted attempts, first and last seen, accepted recipients affected...). */
  counts: Record<string, number | string | null>;
  /** Up to five example lines, file:line. */
  examples: EvidenceLine[];
  /** What to do about it. */
  nextMove: string;
}
