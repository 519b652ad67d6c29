/**
 * ECS output (#9): every document mta550 writes for the golden samples (rejections, onsets, groups,
 * delivery attempts, nested and flat) is checked field by field against the ECS definitions shipped
 * in @elastic/ecs: no unknown field outside `mta550.*`, every value of its ECS type (keyword strings,
 * longs, dates, real IP addresses), arrays only where ECS allows them, allowed values for the
 * categorisation fields, and each event.type expected by one of the event.category values.
 * The rejection and attempt mappings must be reversible: the documents read back give exactly the
 * golden records (which `mta550 aggregate` relies on).
 */
import { isIP } from 'node:net';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { flatten, rejectionFromEcs, unflatten } from '../../src/output/ecs.js';
import type { RejectionEvent } from '../../src/model/event.js';
import { runCli } from '../run-cli.js';

interface EcsField {
  type: string;
  normalize: string[];
  allowed_values?: { name: string; expected_event_types?: string[] }[];
}
const require = createRequire(import.meta.url);
const { EcsFlat } = require('@elastic/ecs') as { EcsFlat: Record<string, EcsField> };

const STRING_TYPES = new Set(['keyword', 'constant_keyword', 'wildcard', 'match_only_text', 'text']);
const INTEGER_TYPES = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long']);

/** The problems of one document: [] when every field is an ECS field of the right type. */
export function ecsProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const leaf = (p: string, v: unknown) => {
    const f = EcsFlat[p];
    if (f === undefined) return problems.push(`${p}: not an ECS field`);
    const values = Array.isArray(v) ? v : [v];
    if (Array.isArray(v) && !f.normalize.includes('array')) problems.push(`${p}: an array, but ECS defines one value`);
    for (const x of values) {
      const ok =
        STRING_TYPES.has(f.type) ? typeof x === 'string'
        : INTEGER_TYPES.has(f.type) ? Number.isInteger(x)
        : f.type === 'float' || f.type === 'scaled_float' || f.type === 'double' ? typeof x === 'number'
        : f.type === 'boolean' ? typeof x === 'boolean'
        : f.type === 'date' ? typeof x === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(x) && !Number.isNaN(Date.parse(x))
        : f.type === 'ip' ? typeof x === 'string' && isIP(x) !== 0
        : false;
      if (!ok) problems.push(`${p}: ${JSON.stringify(x)} is not of ECS type ${f.type}`);
      if (f.allowed_values !== undefined && !f.allowed_values.some((a) => a.name === x)) problems.push(`${p}: ${JSON.stringify(x)} is not an allowed value`);
    }
  };
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const p = prefix === '' ? k : `${prefix}.${k}`;
      if (k.includes('.')) problems.push(`${p}: a dotted key in a nested document`);
      if (p === 'mta550') continue; // our own namespace
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, p);
      else if (v === null) problems.push(`${p}: null (absent fields are left out)`);
      else leaf(p, v);
    }
  };
  walk(doc, '');
  // Categorisation: each event.type value must be one an event.category value expects.
  const event = doc.event as { category?: string[]; type?: string[]; kind?: string } | undefined;
  if (event?.kind === undefined) problems.push('event.kind missing');
  if (doc['@timestamp'] === undefined) problems.push('@timestamp missing');
  const expected = new Set((event?.category ?? []).flatMap((c) => EcsFlat['event.category']!.allowed_values!.find((a) => a.name === c)?.expected_event_types ?? []));
  for (const t of event?.type ?? []) if (!expected.has(t)) problems.push(`event.type ${t}: not expected by category ${event?.category?.join(',')}`);
  return problems;
}

const SAMPLE_DIRS = ['samples/postfix', 'samples/exim', 'samples/exchange', 'samples/exchange-online', 'samples/app'];
const samples = SAMPLE_DIRS.flatMap((d) => readdirSync(d).filter((f) => /\.(?:log|log\.gz|json|csv)$/.test(f)).map((f) => path.join(d, f)));
const argsOf = (file: string): string[] => {
  const a = file.replace(/\.(?:log|log\.gz|json|csv)$/, '.args');
  return existsSync(a) ? readFileSync(a, 'utf8').trim().split(/\s+/).filter((x) => x !== '' && x !== '--records' && x !== 'onsets') : [];
};
const lines = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('ECS documents of the golden samples', () => {
  it.each(samples)('%s: every field of every document (all record kinds) is an ECS field of its type, or ours', async (file) => {
    const { code, stdout } = await runCli(['analyze', file, '--output', 'ndjson', '--records', 'all,attempts', '--year', '2024', '--quiet', ...argsOf(file)]);
    expect(code).toBe(0);
    const docs = lines(stdout);
    // Only a sample with nothing to report (its golden file empty, e.g. an SMTP protocol log) has no document.
    const golden = file.replace(/\.(?:log|log\.gz|json|csv)$/, '.expected.ndjson');
    if (readFileSync(golden, 'utf8').trim() !== '') expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) expect(ecsProblems(d), JSON.stringify(d).slice(0, 300)).toEqual([]);
  });

  it.each(samples)('%s: the documents read back give exactly the golden records, nested and flat', async (file) => {
    const args = ['analyze', file, '--records', 'events', '--year', '2024', '--quiet', ...argsOf(file)];
    const native = lines((await runCli([...args, '--output', 'records'])).stdout) as unknown as RejectionEvent[];
    const nested = lines((await runCli([...args, '--output', 'ndjson'])).stdout);
    const flat = lines((await runCli([...args, '--output', 'ndjson', '--ecs=false'])).stdout);
    expect(nested.map((d) => rejectionFromEcs(d))).toEqual(native);
    expect(flat.map((d) => rejectionFromEcs(d))).toEqual(native);
    // The flat form is the nested one with dotted keys, and has no nested object left (a record
    // without a time of its own is stamped when read: not comparable across runs).
    const stamped = (d: Record<string, unknown>) => (d['mta550.time_missing'] === true ? { ...d, '@timestamp': 'read time' } : d);
    expect(flat.map(stamped)).toEqual(nested.map((d) => stamped(flatten(d))));
    for (const f of flat) for (const v of Object.values(f)) expect(v === null || typeof v !== 'object' || Array.isArray(v)).toBe(true);
    expect(flat.map((f) => flatten(unflatten(f)))).toEqual(flat);
  });
});

describe('the validator', () => {
  it('finds unknown fields, wrong types, arrays where ECS has one value, bad categories and dotted keys', () => {
    const bad = {
      '@timestamp': 'yesterday',
      event: { kind: 'happening', category: ['email'], type: ['denied'], code: 550 },
      server: { ip: 'mx.example.com', port: '25' },
      email: { local_id: ['A', 'B'], 'x.y': 'z' },
      smtp: { reply: '550' },
    };
    expect(ecsProblems(bad).sort()).toEqual(
      [
        '@timestamp: "yesterday" is not of ECS type date',
        'event.kind: "happening" is not an allowed value',
        'event.code: 550 is not of ECS type keyword',
        'server.ip: "mx.example.com" is not of ECS type ip',
        'server.port: "25" is not of ECS type long',
        'email.local_id: an array, but ECS defines one value',
        'email.x.y: a dotted key in a nested document',
        'email.x.y: not an ECS field',
        'smtp.reply: not an ECS field',
        'event.type denied: not expected by category email',
      ].sort(),
    );
  });
});
