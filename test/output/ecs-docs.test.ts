/**
 * docs/ecs.md and docs/pipelines/index-template.json cannot drift from what mta550 writes (#9).
 *
 * The built CLI runs over every sample log (samples/postfix, samples/exim, samples/app) with every record kind
 * (`--records all,attempts --codes 5xx`), nested and flat (`--ecs=false`), and `tail` writes a
 * summary document of each form. Then:
 * - every leaf field path of every document (array indexes ignored; the embedded records
 *   mta550.onset, .group, .summary, .classification and .message taken as one field) is listed in
 *   docs/ecs.md, in the table of its kind or in the table of fields of every document;
 * - the flat form has exactly those paths as keys, the embedded records as JSON strings;
 * - every type docs/ecs.md gives an ECS field is the type @elastic/ecs gives it, every other field
 *   is under mta550., and every mta550 value in the samples fits the type docs/ecs.md gives it
 *   (inside mta550.classification and mta550.message too);
 * - the index template maps every field path of the samples (ECS fields with ECS's type) and is what
 *   docs/pipelines/make-index-template.mjs generates from docs/ecs.md;
 * - the pipeline examples parse (JSON here; YAML and TOML when python3 has yaml and tomllib).
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { watch } from '../run-cli.js';

type Doc = Record<string, unknown>;
interface EcsField {
  type: string;
}

const CLI = path.resolve('dist/src/cli.js');
const DOC = 'docs/ecs.md';
const TEMPLATE = 'docs/pipelines/index-template.json';
const GENERATOR = 'docs/pipelines/make-index-template.mjs';
const KINDS = ['mta550.rejection', 'mta550.delivery', 'mta550.onset', 'mta550.group', 'mta550.summary', 'mta550.finding'] as const;
/** Whole records inside a document: one field each in the docs' kind tables, JSON strings when flat. */
const EMBEDDED = new Set(['mta550.onset', 'mta550.group', 'mta550.finding', 'mta550.summary', 'mta550.classification', 'mta550.message', 'mta550.app']);
/** Records not mapped field by field (flattened, disabled, or keys that are values). */
const UNMAPPED_INSIDE = new Set(['mta550.onset', 'mta550.group', 'mta550.finding', 'mta550.summary', 'mta550.message.other_recipients_by_status']);

const require = createRequire(import.meta.url);
const { EcsFlat } = require('@elastic/ecs') as { EcsFlat: Record<string, EcsField> };
const run = promisify(execFile);
const samples = ['samples/postfix', 'samples/exim', 'samples/app', 'samples/findings'].flatMap((d) =>
  readdirSync(d)
    .filter((f) => /\.log(\.gz)?$/.test(f))
    .sort()
    .map((f) => path.join(d, f)),
);
const parseLines = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Doc);

const nested: Doc[] = [];
const flat: Doc[] = [];

/** `tail` over a sample until it has written a summary document (the only source of those). */
async function tailSummary(ecs: boolean): Promise<Doc[]> {
  const child = spawn(process.execPath, [CLI, 'tail', 'samples/postfix/001-remote-550-providers.log', '--from-beginning', '--summary-every', '100ms', '--poll-interval', '50ms', '--year', '2024', '--quiet', `--ecs=${ecs}`], {
    env: { ...process.env, TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const w = watch(child);
  for (const t0 = Date.now(); !w.out().includes('mta550.summary') && Date.now() - t0 < 10_000; ) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGTERM');
  expect(await w.exited).toBe(0);
  return parseLines(w.out());
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test builds first)`);
  const jobs = samples.flatMap((s) => [true, false].map((ecs) => ({ s, ecs })));
  const worker = async () => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      const { stdout } = await run(process.execPath, [CLI, 'analyze', job.s, '--output', 'ndjson', '--records', 'all,attempts', '--codes', '5xx', '--year', '2024', '--quiet', `--ecs=${job.ecs}`], {
        env: { ...process.env, TZ: 'UTC' },
        maxBuffer: 1 << 30,
      });
      (job.ecs ? nested : flat).push(...parseLines(stdout));
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  nested.push(...(await tailSummary(true)));
  flat.push(...(await tailSummary(false)));
}, 300_000);

const datasetOf = (d: Doc): unknown => (typeof d['event.dataset'] === 'string' ? d['event.dataset'] : (d.event as Doc | undefined)?.dataset);

/** Leaf paths of documents and their values: objects walked into, arrays of objects too, `stop` paths kept whole. */
function leaves(docs: Doc[], stop: (p: string) => boolean): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  const add = (p: string, v: unknown) => {
    const vs = out.get(p) ?? [];
    vs.push(v);
    out.set(p, vs);
  };
  const walk = (v: unknown, p: string): void => {
    if (p !== '' && stop(p)) return add(p, v);
    if (Array.isArray(v)) {
      if (v.some((x) => x !== null && typeof x === 'object')) for (const x of v) walk(x, p);
      else add(p, v);
      return;
    }
    if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, p === '' ? k : `${p}.${k}`);
      return;
    }
    add(p, v);
  };
  for (const d of docs) walk(d, '');
  return out;
}

/** docs/ecs.md: the fields of each section's tables (`| \`field\` | type | ... |`), and every field's type. */
function readDoc(): { sections: { heading: string; fields: Set<string> }[]; types: Map<string, string> } {
  const sections: { heading: string; fields: Set<string> }[] = [];
  const types = new Map<string, string>();
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    if (/^#{1,3} /.test(line)) {
      sections.push({ heading: line, fields: new Set() });
      continue;
    }
    const m = /^\| `([^`]+)` \| ([^|]+?) \|/.exec(line);
    if (m === null) continue;
    const [, field, type] = m as unknown as [string, string, string];
    sections.at(-1)!.fields.add(field);
    const seen = types.get(field);
    if (seen !== undefined && seen !== type) throw new Error(`${DOC} gives ${field} two types: ${seen} and ${type}`);
    types.set(field, type);
  }
  return { sections, types };
}

function fits(type: string, v: unknown): boolean {
  switch (type) {
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'match_only_text':
      return typeof v === 'string';
    case 'long':
    case 'date (epoch_millis)':
      return Number.isInteger(v);
    case 'float':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'date':
      return typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v) && !Number.isNaN(Date.parse(v));
    case 'ip':
      return typeof v === 'string' && isIP(v) !== 0;
    case 'object':
    case 'flattened':
    case 'object (enabled: false)':
    case 'object (long values)':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    default:
      return false;
  }
}

describe('docs/ecs.md', () => {
  it('has documents of every kind to check against', () => {
    for (const k of KINDS) expect(nested.filter((d) => datasetOf(d) === k).length, k).toBeGreaterThan(0);
    for (const k of KINDS) expect(flat.filter((d) => datasetOf(d) === k).length, k).toBeGreaterThan(0);
  });

  it.each(KINDS)('lists every field path of the %s documents in the table of its kind (or of every document)', (kind) => {
    const { sections } = readDoc();
    const common = sections.find((s) => s.heading.includes('Fields of every document'));
    const own = sections.find((s) => s.heading.startsWith('## ') && s.heading.includes(`\`${kind}\``));
    expect(common, 'a "Fields of every document" section').toBeDefined();
    expect(own, `a section whose heading names \`${kind}\``).toBeDefined();
    const listed = new Set([...common!.fields, ...own!.fields]);
    const paths = [...leaves(nested.filter((d) => datasetOf(d) === kind), (p) => EMBEDDED.has(p)).keys()];
    expect(paths.filter((p) => !listed.has(p)).sort()).toEqual([]);
  });

  it('lists as fields of every document only fields that every document has', () => {
    const common = readDoc().sections.find((s) => s.heading.includes('Fields of every document'))!;
    for (const d of nested) {
      const have = new Set(leaves([d], (p) => EMBEDDED.has(p)).keys());
      expect([...common.fields].filter((f) => !have.has(f)), String(datasetOf(d))).toEqual([]);
    }
  });

  it.each(KINDS)('the flat form of %s documents has exactly the same field paths, embedded records as JSON strings', (kind) => {
    const paths = new Set(leaves(nested.filter((d) => datasetOf(d) === kind), (p) => EMBEDDED.has(p)).keys());
    const keys = new Set(flat.filter((d) => datasetOf(d) === kind).flatMap((d) => Object.keys(d)));
    expect([...keys].sort()).toEqual([...paths].sort());
    const bad = new Set<string>();
    for (const d of flat.filter((x) => datasetOf(x) === kind)) {
      for (const [k, v] of Object.entries(d)) {
        const ok = EMBEDDED.has(k)
          ? v === null || (typeof v === 'string' && typeof JSON.parse(v) === 'object')
          : v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'));
        if (!ok) bad.add(k);
      }
    }
    expect([...bad]).toEqual([]);
  });

  it('gives every ECS field the type @elastic/ecs gives it, and has no other field outside mta550.*', () => {
    const { types } = readDoc();
    expect(types.size).toBeGreaterThan(50);
    const wrong = [...types].filter(([f, t]) => (EcsFlat[f] === undefined ? !f.startsWith('mta550.') : EcsFlat[f]!.type !== t)).map(([f, t]) => `${f}: ${t} (ECS: ${EcsFlat[f]?.type ?? 'no such field'})`);
    expect(wrong).toEqual([]);
  });

  it('gives every field a type that fits its values in the samples (mta550.classification and mta550.message field by field)', () => {
    const { types } = readDoc();
    const problems: string[] = [];
    for (const [p, values] of leaves(nested, (x) => UNMAPPED_INSIDE.has(x))) {
      const type = types.get(p);
      if (type === undefined) {
        problems.push(`${p}: not in ${DOC}`);
        continue;
      }
      for (const v of values) {
        if (v === null && p.startsWith('mta550.')) continue;
        const items = Array.isArray(v) ? v : [v];
        const bad = items.find((x) => !fits(type, x));
        if (bad !== undefined) {
          problems.push(`${p}: ${JSON.stringify(v).slice(0, 80)} is not ${type}`);
          break;
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('docs/pipelines', () => {
  it('index-template.json is what make-index-template.mjs generates from docs/ecs.md and @elastic/ecs', () => {
    const r = spawnSync(process.execPath, [GENERATOR, '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the index template maps every field path of the sample documents, ECS fields with their ECS type', () => {
    const template = JSON.parse(readFileSync(TEMPLATE, 'utf8')) as { index_patterns: string[]; data_stream: object; template: { mappings: { properties: Record<string, Doc> } } };
    expect(template.index_patterns).toEqual(['logs-mta550.*-*', 'metrics-mta550.*-*']);
    expect(template.data_stream).toEqual({});
    const problems: string[] = [];
    for (const p of leaves(nested, (x) => UNMAPPED_INSIDE.has(x)).keys()) {
      let props: Record<string, Doc> | undefined = template.template.mappings.properties;
      let mapping: Doc | undefined;
      for (const part of p.split('.')) {
        mapping = props?.[part];
        if (mapping === undefined) break;
        props = mapping.properties as Record<string, Doc> | undefined;
      }
      if (mapping === undefined) problems.push(`${p}: not mapped`);
      else if (EcsFlat[p] !== undefined && mapping.type !== EcsFlat[p]!.type) problems.push(`${p}: ${String(mapping.type)}, ECS: ${EcsFlat[p]!.type}`);
      else if (mapping.type === undefined) problems.push(`${p}: a value where the template has only an object of fields`);
    }
    expect(problems).toEqual([]);
    const m = template.template.mappings.properties.mta550!.properties as Record<string, Doc>;
    expect(m.onset).toMatchObject({ type: 'flattened' });
    expect(m.group).toMatchObject({ type: 'flattened' });
    expect(m.finding).toMatchObject({ type: 'flattened' });
    expect(m.summary).toMatchObject({ type: 'object', enabled: false });
  });

  it('every example configuration parses (YAML and TOML when python3 can read them)', () => {
    const dir = 'docs/pipelines';
    const files = readdirSync(dir);
    for (const f of ['filebeat.yml', 'index-template.json', 'vector.toml', 'fluent-bit.conf', 'fluent-bit-parsers.conf', 'promtail.yml', 'make-index-template.mjs']) expect(files).toContain(f);
    for (const f of files.filter((x) => x.endsWith('.json'))) expect(() => JSON.parse(readFileSync(path.join(dir, f), 'utf8'))).not.toThrow();
    const py = spawnSync('python3', ['-c', 'import tomllib, yaml'], { encoding: 'utf8' });
    if (py.status !== 0) return; // no python3 with tomllib and PyYAML here: JSON only
    const check = spawnSync(
      'python3',
      ['-c', 'import sys, tomllib, yaml\nfor f in sys.argv[1:]:\n    (tomllib.load(open(f, "rb")) if f.endswith(".toml") else yaml.safe_load(open(f)))', ...files.filter((x) => /\.(ya?ml|toml)$/.test(x)).map((x) => path.join(dir, x))],
      { encoding: 'utf8' },
    );
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
