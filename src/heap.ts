/**
 * How far V8 lets its heap grow past what is live before the next full collection (#11).
 *
 * V8 sizes the next old-generation limit as the live heap times a factor it picks from how cheap
 * collection has been: up to 4. mta550's state is small and long-lived (capped tables) while the
 * lines stream through and die young, so collections are cheap, V8 picks the largest factor, and
 * the RSS of a long run settles at three to five times the heap in use (530 MiB for about 90 MiB
 * live on 10 M lines). A fixed factor of 1 + MTA550_HEAP_GROWTH / 100 (default 30%) keeps it near
 * what is live, for a few more full collections, each short because the live heap is small.
 */
import { setFlagsFromString } from 'node:v8';

export const DEFAULT_HEAP_GROWTH_PERCENT = 30;
const MAX_PERCENT = 400;

/**
 * The growth percent asked for by MTA550_HEAP_GROWTH: unset or empty gives the default, `0` leaves
 * V8 its own choice. Throws a RangeError with a message for the user on anything else.
 */
export function heapGrowthPercent(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_HEAP_GROWTH_PERCENT;
  const v = value.trim();
  if (!/^\d+$/.test(v) || Number(v) > MAX_PERCENT) {
    throw new RangeError(`MTA550_HEAP_GROWTH must be a whole number of percent from 0 (V8 decides) to ${MAX_PERCENT}, got '${value}'`);
  }
  return Number(v);
}

/** Sets V8's heap growing factor for this process and its worker threads (0: V8's own). */
export function restrainHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
