/**
 * The contract between the app-log decoder (index.ts) and the per-ecosystem parsers (one file per
 * client library family, FORMATS.md 4). The decoder assembles nothing itself: the multi-line framer
 * (src/framing/multiline.ts) hands it one unit; the decoder strips the unit's log prefix, unpacks a
 * structured (JSON) entry, and asks each ecosystem parser in turn (ECOSYSTEMS in index.ts).
 */
import type { AppErrorRecord, Ecosystem } from '../../src/model/records.js';

/** One assembled unit (an exception with its frames, a traceback, one JSON log entry). */
export interface AppUnit {
  /**
   * The unit's text, lines joined with `\n`, without the log prefix of its first line (timestamp,
   * level, logger, syslog header) and without the per-line syslog/journald prefixes of the others.
   * For a JSON entry: the message, then the error's message and stack/traceback strings, one per line.
   */
  text: string;
  /**
   * For a JSON entry, the error object's own properties wherever it sat (`err`, `error`, `exception`,
   * `context.exception`, ...), merged over the entry's top-level ones (`messageId`, `to`, `host`).
   * Null for plain text units.
   */
  fields: Readonly<Record<string, unknown>> | null;
}

/** What an ecosystem parser reads from a unit: the record without its kind and ecosystem. */
export type AppErrorFields = Omit<AppErrorRecord, 'kind' | 'ecosystem'>;

export interface EcosystemParser {
  readonly ecosystem: Ecosystem;
  /**
   * A cheap test (substrings, field names: no regex over the whole unit) that the unit may belong to
   * this ecosystem. Only units claimed are parsed.
   */
  claims(unit: AppUnit): boolean;
  /**
   * The SMTP error in the unit, or null when it holds none this parser reads. Pure, never throws,
   * linear in the unit's length (regexes must pass the ReDoS check in test/robustness).
   */
  parse(unit: AppUnit): AppErrorFields | null;
}
