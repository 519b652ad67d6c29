/**
 * The count-basis detector (inbound refusals have no denominator): Poisson counts per minute with
 * known truth. Steps must be found within minutes; stationary and diurnal traffic must stay under
 * one false alarm per simulated week.
 */
import { describe, expect, it } from 'vitest';
import { PoissonCusumBank } from '../../src/onset/count.js';
import { poisson, rng } from '../random.js';

function run(seed: number, minutes: number, rate: (m: number) => number) {
  const r = rng(seed);
  const d = new PoissonCusumBank();
  const out: { kind: string; at: number; onset?: number }[] = [];
  for (let m = 0; m < minutes; m++) {
    const x = d.observe(m, poisson(r, rate(m)));
    if (x !== null) out.push(x.kind === 'onset' ? { kind: 'onset', at: x.detectedMin, onset: x.onsetMin } : { kind: 'recovery', at: x.recoveredMin });
  }
  return out;
}

describe('PoissonCusumBank', () => {
  it('finds a 0.5 -> 5 per minute step within 10 minutes in every seed, with its onset time, and its recovery', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const out = run(seed, 600, (m) => (m >= 300 && m < 400 ? 5 : 0.5));
      const onset = out.find((x) => x.kind === 'onset');
      expect(onset, `seed ${seed}`).toBeDefined();
      expect(onset!.at - 300).toBeLessThanOrEqual(10);
      expect(Math.abs(onset!.onset! - 300)).toBeLessThanOrEqual(3);
      expect(out.filter((x) => x.kind === 'onset')).toHaveLength(1);
      expect(out.some((x) => x.kind === 'recovery' && x.at >= 400 && x.at <= 430)).toBe(true);
    }
  });

  it('finds a sparse series stepping from 0.05 to 1 per minute within 30 minutes in >= 95% of seeds', () => {
    let found = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const onset = run(seed, 900, (m) => (m >= 600 ? 1 : 0.05)).find((x) => x.kind === 'onset' && x.at >= 600);
      if (onset !== undefined && onset.at - 600 <= 30) found++;
    }
    expect(found / 40).toBeGreaterThanOrEqual(0.95);
  });

  it('stays under one false alarm per simulated week on stationary and diurnal traffic', () => {
    let alarms = 0;
    const weeks = 8;
    for (let w = 0; w < weeks; w++) {
      const base = [0.1, 0.5, 2, 8][w % 4]!;
      const diurnal = w % 2 === 1;
      alarms += run(100 + w, 7 * 1440, (m) => base * (diurnal ? 1 + 0.5 * Math.sin((2 * Math.PI * m) / 1440) : 1)).filter((x) => x.kind === 'onset').length;
    }
    console.log(`count basis: ${alarms} false alarms in ${weeks} simulated weeks`);
    expect(alarms / weeks).toBeLessThanOrEqual(1);
  });
});

describe('count-basis onsets through the pipeline (inbound refusals)', () => {
  it('finds a relay-attempt surge from one client in a Postfix log, with basis count and the client named', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { PassThrough } = await import('node:stream');
    const { parseCodes } = await import('../../src/aggregate/codes.js');
    const { runPipeline } = await import('../../src/pipeline.js');
    const r = rng(9);
    const lines: string[] = [];
    const start = Date.UTC(2024, 4, 6, 6, 0, 0);
    for (let m = 0; m < 5 * 60; m++) {
      const surge = m >= 4 * 60 && m < 4 * 60 + 20;
      const n = poisson(r, 0.4) + (surge ? poisson(r, 6) : 0);
      for (let i = 0; i < n; i++) {
        const t = new Date(start + m * 60_000 + Math.floor(r() * 60_000)).toISOString().replace('Z', '+00:00');
        const relay = surge && i > 0;
        const ip = relay ? '203.0.113.66' : `198.51.100.${1 + Math.floor(r() * 200)}`;
        const rcpt = relay ? `x${m}${i}@elsewhere.example.net` : `nobody${Math.floor(r() * 1e5)}@example.com`;
        const reply = relay ? `454 4.7.1 <${rcpt}>: Relay access denied` : `550 5.1.1 <${rcpt}>: Recipient address rejected: User unknown in local recipient table`;
        const code = relay ? '554 5.7.1' : '550 5.1.1';
        lines.push(`${t} mx1 postfix/smtpd[${100 + i}]: NOQUEUE: reject: RCPT from unknown[${ip}]: ${relay ? reply.replace('454 4.7.1', code) : reply}; from=<a@example.org> to=<${rcpt}> proto=ESMTP helo=<h>`);
      }
    }
    lines.sort();
    const dir = mkdtempSync(path.join(tmpdir(), 'mta550-count-'));
    try {
      writeFileSync(path.join(dir, 'mail.log'), lines.join('\n') + '\n');
      const records: import('../../src/onset/engine.js').OnsetRecord[] = [];
      await runPipeline([{ kind: 'file', path: path.join(dir, 'mail.log') }], { codes: parseCodes('5xx'), stdin: new PassThrough() }, { event: () => undefined, outcome: () => undefined, onset: (x) => void records.push(x) });
      const onsets = records.filter((x) => x.type === 'onset');
      expect(onsets.map((o) => [o.basis, o.unit, o.series.key])).toEqual([['count', 'minute', 'inbound|subtype=relay_denied']]);
      const o = onsets[0]!;
      expect(Date.parse(o.onsetAt!) - (start + 4 * 3_600_000)).toBeLessThanOrEqual(3 * 60_000);
      expect(Date.parse(o.detectedAt) - (start + 4 * 3_600_000)).toBeLessThanOrEqual(10 * 60_000);
      expect(o.summary).toMatch(/from client 203\.0\.113\.66/);
      expect(o.confidence).not.toBe('high');
      expect(records.some((x) => x.type === 'recovery' && x.basis === 'count')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
