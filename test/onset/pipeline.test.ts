/**
 * Onsets through the whole pipeline: generated Postfix logs with a known change go through the
 * parser, correlator, classifier and onset engine; the records must name the series, time and cause.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCodes } from '../../src/aggregate/codes.js';
import type { OnsetRecord } from '../../src/onset/engine.js';
import { runPipeline } from '../../src/pipeline.js';
import { SCENARIO_START, scenarioLog, type ScenarioSpec } from './scenario-log.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mta550-onset-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function onsetsOf(spec: ScenarioSpec): Promise<{ records: OnsetRecord[]; truth: ReturnType<typeof scenarioLog>['truth']; units: number }> {
  const { text, truth } = scenarioLog(spec);
  const file = path.join(dir, `s${spec.seed}-${spec.minutes}.log`);
  writeFileSync(file, text);
  const records: OnsetRecord[] = [];
  const result = await runPipeline(
    [{ kind: 'file', path: file }],
    { codes: parseCodes('5xx'), year: 2024, stdin: new PassThrough() },
    { event: () => undefined, outcome: () => undefined, onset: (r) => void records.push(r) },
  );
  return { records, truth, units: result.onsetStats!.units };
}

const BUSY = { 'gmail.example': 100, 'outlook.example': 15, 'corp.example.org': 5 };

describe('onsets from generated Postfix logs', () => {
  it('finds a DMARC step at one domain after a relay switch, with its time and cause', async () => {
    const { records, truth, units } = await onsetsOf({
      seed: 7,
      minutes: 8 * 60,
      perMinute: BUSY,
      baseRate: 0.005,
      change: { atMinute: 6 * 60 + 17, domain: 'gmail.example', rate: 0.06, relaySwitch: { to: 'smtp.esp.example', share: 0.9 } },
    });
    expect(units).toBeGreaterThan(50_000);
    const onsets = records.filter((r) => r.type === 'onset');
    const domain = onsets.find((r) => r.series.level === 'rcpt_domain' && r.series.recipientDomain === 'gmail.example');
    expect(domain).toBeDefined();
    expect(domain!.series.subtype).toBe('sender_auth_failed');
    const T = truth.onsetAt!;
    expect(Date.parse(domain!.detectedAt) - T).toBeLessThanOrEqual(5 * 60_000);
    expect(Math.abs(Date.parse(domain!.onsetAt!) - T)).toBeLessThanOrEqual(2 * 60_000);
    expect(domain!.attribution!.top).toMatchObject({ attribute: expect.stringMatching(/^relay/), to: expect.stringMatching(/smtp\.esp\.example|198\.51\.100\.80/) });
    expect(Math.abs(domain!.attribution!.top!.changedAt - truth.changedAt!)).toBeLessThanOrEqual(2 * 60_000);
    expect(domain!.summary).toMatch(/gmail\.example sender_auth_failed rejections rose from .* coincides with relay/);
    // Nothing before the change, and every onset of this episode shares one incident.
    expect(onsets.filter((r) => Date.parse(r.detectedAt) < T)).toEqual([]);
    expect(new Set(onsets.map((r) => r.incidentId)).size).toBe(1);
    // The relay switch is also reported on its own, as a change of the sending path.
    const changes = records.filter((r) => r.type === 'attribute_change');
    expect(changes.map((c) => [c.change!.attribute, c.change!.to])).toEqual(expect.arrayContaining([['relay', 'smtp.esp.example']]));
    expect(Math.abs(Date.parse(changes.find((c) => c.change!.attribute === 'relay')!.change!.changedAt) - T)).toBeLessThanOrEqual(60_000);
  }, 60_000);

  it('list import: a campaign to a bought list is an onset of unknown recipients, tied to its sender domain', async () => {
    const { records } = await onsetsOf({ seed: 21, minutes: 7 * 60, perMinute: BUSY, baseRate: 0.005, scenario: { kind: 'list_import', atMinute: 6 * 60, domain: '', rate: 0.3, perMinute: 20 } });
    const T = SCENARIO_START + 6 * 3_600_000;
    const onset = records.find((r) => r.type === 'onset' && r.series.subtype === 'recipient_unknown' && r.series.level === 'global');
    expect(onset).toBeDefined();
    expect(Date.parse(onset!.detectedAt) - T).toBeLessThanOrEqual(10 * 60_000);
    const a = onset!.attribution!;
    expect(a.top?.attribute === 'sender_domain' ? a.top.to : a.concentration?.value).toBe('news.example.net');
  }, 60_000);

  it('IP blocklisting at one provider: an onset of blocklisted refusals at that domain', async () => {
    const { records } = await onsetsOf({ seed: 22, minutes: 7 * 60, perMinute: { ...BUSY, 'contoso.example': 20 }, baseRate: 0.005, scenario: { kind: 'ip_blocklisted', atMinute: 6 * 60, domain: 'contoso.example', rate: 0.8 } });
    const T = SCENARIO_START + 6 * 3_600_000;
    const onset = records.find((r) => r.type === 'onset' && r.series.recipientDomain === 'contoso.example');
    expect(onset).toMatchObject({ series: { subtype: 'blocklisted', provider: 'microsoft' } });
    expect(Date.parse(onset!.detectedAt) - T).toBeLessThanOrEqual(5 * 60_000);
  }, 60_000);

  it('domain migration Google -> Microsoft with stale addresses: an onset of unknown recipients with the MX change named', async () => {
    const { records } = await onsetsOf({ seed: 23, minutes: 7 * 60, perMinute: { ...BUSY, 'migrating.example': 20 }, baseRate: 0.005, scenario: { kind: 'migration', atMinute: 6 * 60, domain: 'migrating.example', rate: 0.15 } });
    const T = SCENARIO_START + 6 * 3_600_000;
    const onset = records.find((r) => r.type === 'onset' && r.series.recipientDomain === 'migrating.example');
    expect(onset).toMatchObject({ series: { subtype: 'recipient_unknown' } });
    expect(Date.parse(onset!.detectedAt) - T).toBeLessThanOrEqual(10 * 60_000);
    expect(onset!.attribution!.top).toMatchObject({ attribute: expect.stringMatching(/^relay|provider/), to: expect.stringMatching(/outlook|203\.0\.113\.46|microsoft/) });
    expect(onset!.summary).toMatch(/coincides with (relay|relay_ip|provider) change/);
  }, 60_000);

  it('stays quiet on stationary traffic', async () => {
    const { records } = await onsetsOf({ seed: 11, minutes: 10 * 60, perMinute: BUSY, baseRate: 0.005 });
    expect(records.filter((r) => r.type === 'onset' || r.type === 'attribute_change')).toEqual([]);
  }, 60_000);

  it('stays quiet on a pure volume surge (x10, same rates)', async () => {
    const { records } = await onsetsOf({ seed: 12, minutes: 6 * 60, perMinute: BUSY, baseRate: 0.005, surge: { fromMinute: 4 * 60, toMinute: 5 * 60, factor: 10 } });
    expect(records.filter((r) => r.type === 'onset')).toEqual([]);
  }, 60_000);
});
