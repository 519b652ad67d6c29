/**
 * `mta550 aggregate` (#9): the NDJSON each host's mta550 wrote (events and delivery attempts),
 * aggregated, gives the same groups, rates and onsets as one `mta550 analyze` over all the hosts'
 * logs; in each of the three shapes (ECS nested, flat, mta550's own records), also from standard
 * input; lines that are not mta550 records are counted and quoted, never dropped silently.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../run-cli.js';

// Four "hosts": two Postfix relays (one with a DMARC onset after a relay change), an inbound
// Postfix MX, and an Exim host.
const HOSTS = ['samples/postfix/013-dmarc-after-relay-change.log.gz', 'samples/postfix/001-remote-550-providers.log', 'samples/postfix/002-inbound-rejects.log', 'samples/exim/001-remote-550.log'];
const dir = mkdtempSync(path.join(tmpdir(), 'mta550-fleet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let order: string[] | null = null;
/** analyze reads its inputs grouped and sorted (rotated sets oldest first): the order to compare with. */
async function analyzeOrder(): Promise<string[]> {
  order ??= (JSON.parse((await runCli(['analyze', ...HOSTS, '--codes', '5xx', '--year', '2024', '--output', 'json', '-q'])).stdout) as Report).inputs.map((i) => i.path);
  return order;
}

interface Report {
  onsets: { id: string; type: string; summary: string }[];
  groups: unknown[];
  providerGroups: unknown[];
  subtypes: unknown[];
  units: unknown;
  totals: unknown;
  inputs: { path: string; malformed: number; malformedExamples: { reason: string }[] }[];
}
const comparable = (r: Report) => ({ onsets: r.onsets, groups: r.groups, providerGroups: r.providerGroups, subtypes: r.subtypes, units: r.units, totals: r.totals });

/** Each host's NDJSON, named so that aggregate reads them in the order analyze read the logs. */
async function hostOutputs(shape: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const [i, host] of (await analyzeOrder()).entries()) {
    const { code, stdout } = await runCli(['analyze', host, '--codes', '5xx', '--year', '2024', '--records', 'events,attempts', '-q', ...shape]);
    expect(code).toBe(0);
    const f = path.join(dir, `host${i}-${shape.join('')}.ndjson`);
    writeFileSync(f, stdout);
    files.push(f);
  }
  return files;
}

describe('mta550 aggregate', () => {
  let all: Report;

  it.each([
    ['ECS documents', ['--output', 'ndjson']],
    ['flat documents', ['--output', 'ndjson', '--ecs=false']],
    ["mta550's own records", ['--output', 'records']],
  ])('over the hosts\' %s equals one analyze over all their logs (groups, rates, onsets)', async (_name, shape) => {
    all ??= JSON.parse((await runCli(['analyze', ...HOSTS, '--codes', '5xx', '--year', '2024', '--output', 'json', '-q'])).stdout) as Report;
    expect(all.onsets.filter((o) => o.type === 'onset').length).toBeGreaterThan(0);
    const files = await hostOutputs(shape);
    const { code, stdout, stderr } = await runCli(['aggregate', ...files, '--codes', '5xx', '--output', 'json']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(comparable(JSON.parse(stdout) as Report)).toEqual(comparable(all));
  });

  it('reads standard input (one stream of all hosts, e.g. from Kafka), counts and quotes what is not a record', async () => {
    const files = await hostOutputs(['--output', 'ndjson']);
    const stream = files.map((f) => readFileSync(f, 'utf8')).join('') + 'not json at all\n{"hello":"world"}\n\n';
    const { code, stdout, stderr } = await runCli(['aggregate', '-', '--codes', '5xx', '--output', 'json'], stream);
    expect(code).toBe(0);
    const r = JSON.parse(stdout) as Report;
    expect(comparable(r)).toEqual(comparable(all));
    expect(r.inputs[0]!.malformed).toBe(2);
    expect(r.inputs[0]!.malformedExamples.map((m) => m.reason)).toEqual(['not JSON', 'not an mta550 record']);
    expect(stderr).toContain('2 line(s) were not mta550 records');
  });

  it('says when the input has no delivery attempts (rates need them)', async () => {
    const { stdout } = await runCli(['analyze', HOSTS[1]!, '--year', '2024', '--records', 'events', '-q']);
    writeFileSync(path.join(dir, 'events-only.ndjson'), stdout);
    const r = await runCli(['aggregate', path.join(dir, 'events-only.ndjson'), '--output', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('no delivery attempts in the input');
  });
});
