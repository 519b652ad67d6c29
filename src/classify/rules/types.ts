import type { SubtypeId } from '../subtypes.js';

/**
 * One row of evidence (STYLE.md habit 4). Every condition given must hold; `text` is tested
 * against the normalised reply in lower case, `enhanced` against the enhanced status, `code`
 * against the three-digit code.
 */
export interface Rule {
  /** `provider.what` or `generic.what`: shown as evidence, so a surprising result can be traced. */
  id: string;
  subtype: SubtypeId;
  text?: RegExp;
  enhanced?: RegExp;
  code?: RegExp;
  detail?: string;
}

/** A generic text marker. Lower tiers win; within a tier the stage breaks ties (TAXONOMY.md 6.3). */
export interface Marker extends Rule {
  text: RegExp;
  tier: number;
  /** A phrase that names its cause unambiguously ("blocked using", "relay access denied"). */
  strong: boolean;
}
