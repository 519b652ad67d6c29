import { describe, expect, it } from 'vitest';
import { attribute, jsd, type AttributedUnit } from '../../src/onset/attribution.js';
import { rng } from '../random.js';

const attrs = (relay: string, ip = '192.0.2.1') => ({ relay, relay_ip: relay === 'new' ? '198.51.100.80' : '192.0.2.50', sender_domain: 'example.com', client_ip: ip, provider: 'google' });

describe('jsd', () => {
  it('is 0 for equal distributions, 1 for disjoint ones, and symmetric', () => {
    const a = new Map([['x', 3], ['y', 1]]);
    expect(jsd(a, new Map([['x', 6], ['y', 2]]))).toBeCloseTo(0, 12);
    expect(jsd(new Map([['x', 1]]), new Map([['y', 1]]))).toBeCloseTo(1, 12);
    const b = new Map([['x', 1], ['z', 5]]);
    expect(jsd(a, b)).toBeCloseTo(jsd(b, a), 12);
  });
});

describe('attribute', () => {
  const T = 3_600_000;
  function units(fn: (t: number, r: () => number) => AttributedUnit): AttributedUnit[] {
    const r = rng(5);
    const out: AttributedUnit[] = [];
    for (let t = 0; t < 2 * T; t += 1000) out.push(fn(t, r));
    return out;
  }

  it('names a relay switch that carries the failures, with its bundle', () => {
    const u = units((t, r) => {
      const relay = t >= T && r() < 0.9 ? 'new' : 'old';
      return { t, failed: relay === 'new' ? r() < 0.3 : r() < 0.005, attrs: attrs(relay) };
    });
    const a = attribute(u, T, 0.005);
    expect(a.top).toMatchObject({ attribute: 'relay', from: 'old', to: 'new' });
    expect(a.top!.changedAt).toBeGreaterThanOrEqual(T);
    expect(a.top!.explainedFraction).toBeGreaterThan(0.9);
    expect(a.bundle).toContain('relay_ip');
  });

  it('finds a concentration on one client IP when the mix did not change', () => {
    const u = units((t, r) => {
      const ip = r() < 0.25 ? '198.51.100.7' : '198.51.100.8';
      return { t, failed: t >= T && ip === '198.51.100.7' ? r() < 0.4 : r() < 0.005, attrs: attrs('old', ip) };
    });
    const a = attribute(u, T, 0.005);
    expect(a.top).toBeNull();
    expect(a.concentration).toMatchObject({ attribute: 'client_ip', value: '198.51.100.7' });
  });

  it('says none when nothing explains the rise', () => {
    const u = units((t, r) => ({ t, failed: t >= T ? r() < 0.05 : r() < 0.005, attrs: attrs('old', r() < 0.5 ? '198.51.100.7' : '198.51.100.8') }));
    const a = attribute(u, T, 0.005);
    expect(a.top).toBeNull();
    expect(a.concentration).toBeNull();
  });
});
