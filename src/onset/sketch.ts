/**
 * A Count-Min sketch (Cormode & Muthukrishnan 2005) over two rotating epochs, as the onset engine's
 * admission filter (ONSETS.md 3.5): once the table of recipient-domain series is full, a domain not
 * in it gets a series only when it is busy (50 units in the last one or two 10-minute epochs) or
 * suddenly fails (10 failures). The sketch only over-estimates, so it errs toward admitting.
 * Width 2^14 and depth 4: 64k 32-bit counters per epoch and kind (256 KiB each), whatever the
 * number of domains.
 */

const WIDTH = 1 << 14;
const DEPTH = 4;

/** Two independent 32-bit hashes of a string (FNV-1a and a murmur-style variant), unsigned. */
export function hashPair(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, b >>> 0];
}

function hashes(key: string, out: Uint32Array): void {
  // DEPTH indexes from two hashes (Kirsch-Mitzenmacher).
  const [a, b] = hashPair(key);
  for (let d = 0; d < DEPTH; d++) out[d] = ((a + Math.imul(d, b | 1)) >>> 0) % WIDTH;
}

export class CountMinSketch {
  private current = new Uint32Array(WIDTH * DEPTH);
  private previous = new Uint32Array(WIDTH * DEPTH);
  private epoch = -1;
  private readonly idx = new Uint32Array(DEPTH);

  constructor(private readonly epochMs: number) {}

  private rotate(t: number): void {
    const e = Math.floor(t / this.epochMs);
    if (e === this.epoch) return;
    if (e === this.epoch + 1) {
      [this.previous, this.current] = [this.current, this.previous];
      this.current.fill(0);
    } else {
      this.previous.fill(0);
      this.current.fill(0);
    }
    this.epoch = e;
  }

  /** Adds `n` to `key` at time `t`; returns its estimate over this epoch and the one before. */
  add(key: string, t: number, n = 1): number {
    this.rotate(t);
    hashes(key, this.idx);
    let est = Infinity;
    for (let d = 0; d < DEPTH; d++) {
      const i = d * WIDTH + this.idx[d]!;
      this.current[i]! += n;
      est = Math.min(est, this.current[i]! + this.previous[i]!);
    }
    return est;
  }
}
