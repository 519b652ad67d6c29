import type { RejectionEvent } from '../model/event.js';

/** One event as one NDJSON line. */
export function eventLine(event: RejectionEvent): string {
  return JSON.stringify(event) + '\n';
}
