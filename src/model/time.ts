/**
 * Earliest and latest of two event times. Event times are ISO 8601 UTC strings of one shape
 * (`2024-03-11T06:00:00.000Z`), so they compare as text; null is "no time" and loses to any time.
 */
export function earlier(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return b < a ? b : a;
}

export function later(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return b > a ? b : a;
}
