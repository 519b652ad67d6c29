#!/usr/bin/env node
// Builds docs/pipelines/index-template.json, the Elasticsearch composable index template for
// mta550's data streams (logs-mta550.*-*, metrics-mta550.*-*), from two sources so it stays in sync:
//
//   - the field tables of docs/ecs.md (every field mta550 writes, with its type), which
//     test/output/ecs-docs.test.ts checks against the documents mta550 produces for every sample;
//   - the ECS definitions of the npm package @elastic/ecs (a dev dependency): ECS fields get
//     exactly ECS's mapping (type, ignore_above, index/doc_values), and a type in docs/ecs.md that
//     disagrees with ECS stops the build.
//
// Usage (from the repository root):
//   node docs/pipelines/make-index-template.mjs           write docs/pipelines/index-template.json
//   node docs/pipelines/make-index-template.mjs --check   exit 1 if the committed file is stale
//   node docs/pipelines/make-index-template.mjs --stdout  print the template
// Then load it: curl -X PUT "$ES/_index_template/mta550" -H 'Content-Type: application/json' \
//   --data-binary @docs/pipelines/index-template.json
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const DOC = path.join(here, '..', 'ecs.md');
const OUT = path.join(here, 'index-template.json');
const require = createRequire(import.meta.url);

function loadEcs() {
  try {
    const pkg = require('@elastic/ecs/package.json');
    return { EcsFlat: require('@elastic/ecs').EcsFlat, version: pkg.version };
  } catch {
    process.stderr.write(
      'make-index-template: the ECS definitions (npm package @elastic/ecs) are not installed.\n' +
        'Install the dev dependencies (npm ci), or: npm install --no-save @elastic/ecs@9.4.0\n',
    );
    process.exit(2);
  }
}

/** `| \`field\` | type | value |` rows of docs/ecs.md: field path -> the type written there. */
export function documentedFields(markdown) {
  const fields = new Map();
  for (const line of markdown.split('\n')) {
    const m = /^\| `([^`]+)` \| ([^|]+?) \|/.exec(line);
    if (m === null) continue;
    const [, field, type] = m;
    const seen = fields.get(field);
    if (seen !== undefined && seen !== type) throw new Error(`docs/ecs.md gives ${field} two types: ${seen} and ${type}`);
    fields.set(field, type);
  }
  return fields;
}

/** The mapping of one mta550.* field from the type docs/ecs.md gives it. */
function ownMapping(field, type) {
  switch (type) {
    case 'keyword':
      return { type: 'keyword', ignore_above: 1024 };
    case 'long':
    case 'float':
    case 'boolean':
    case 'date':
    case 'match_only_text':
      return { type };
    case 'date (epoch_millis)':
      return { type: 'date', format: 'epoch_millis' };
    case 'flattened':
      // Leaf values are indexed as keywords; longer ones (sentences, replies) are kept in _source only.
      return { type: 'flattened', ignore_above: 1024 };
    case 'object (enabled: false)':
      return { type: 'object', enabled: false };
    case 'object (long values)':
      // Keys are values (statuses): mapped as they come, by the dynamic template below.
      return { type: 'object', dynamic: true };
    case 'object':
      return { type: 'object' };
    default:
      throw new Error(`docs/ecs.md: ${field} has the type "${type}", which this script does not know`);
  }
}

/** ECS's own mapping of an ECS field. */
function ecsMapping(def) {
  const m = { type: def.type };
  if (def.ignore_above !== undefined) m.ignore_above = def.ignore_above;
  if (def.scaling_factor !== undefined) m.scaling_factor = def.scaling_factor;
  if (def.index === false) m.index = false;
  if (def.doc_values === false) m.doc_values = false;
  if (def.multi_fields !== undefined && def.multi_fields.length > 0) {
    m.fields = Object.fromEntries(def.multi_fields.map((f) => [f.name, { type: f.type }]));
  }
  return m;
}

function insert(root, field, mapping) {
  const parts = field.split('.');
  let props = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i];
    props[k] ??= { properties: {} };
    const node = props[k];
    if (node.type !== undefined && node.type !== 'object') throw new Error(`${parts.slice(0, i + 1).join('.')} is a ${node.type} and has sub-fields`);
    node.properties ??= {};
    props = node.properties;
  }
  const last = parts[parts.length - 1];
  const existing = props[last];
  if (existing === undefined) props[last] = mapping;
  else {
    // An object given both by its own row and by its sub-fields' rows.
    const { type, ...rest } = mapping;
    if (type !== 'object') throw new Error(`${field} is a ${type} and has sub-fields`);
    Object.assign(existing, rest);
  }
}

function sortDeep(node) {
  if (Array.isArray(node)) return node.map(sortDeep);
  if (node === null || typeof node !== 'object') return node;
  const keys = Object.keys(node);
  // Property maps are sorted by name; mapping parameters keep their order (type first).
  const isProps = keys.every((k) => typeof node[k] === 'object' && node[k] !== null && !Array.isArray(node[k]));
  return Object.fromEntries((isProps ? [...keys].sort() : keys).map((k) => [k, sortDeep(node[k])]));
}

export function buildTemplate(markdown, EcsFlat, ecsPackageVersion) {
  const fields = documentedFields(markdown);
  const properties = {};
  // Objects first, so that their sub-fields land inside them.
  const order = [...fields.keys()].sort((a, b) => a.split('.').length - b.split('.').length || a.localeCompare(b));
  for (const field of order) {
    const type = fields.get(field);
    const def = EcsFlat[field];
    if (def !== undefined) {
      if (def.type !== type) throw new Error(`docs/ecs.md gives ${field} the type ${type}; ECS (@elastic/ecs ${ecsPackageVersion}) says ${def.type}`);
      insert(properties, field, ecsMapping(def));
    } else if (field.startsWith('mta550.')) insert(properties, field, ownMapping(field, type));
    else throw new Error(`docs/ecs.md: ${field} is neither an ECS field nor under mta550.`);
  }
  // Our namespace is described completely: a field a newer mta550 adds stays in _source, unmapped,
  // until the template is regenerated, instead of getting a guessed type that may conflict later.
  properties.mta550.dynamic = false;
  const template = {
    index_patterns: ['logs-mta550.*-*', 'metrics-mta550.*-*'],
    data_stream: {},
    priority: 200,
    template: {
      mappings: {
        dynamic_templates: [
          { mta550_counts_by_status: { path_match: 'mta550.message.other_recipients_by_status.*', mapping: { type: 'long' } } },
          // Fields a shipper adds (agent.*, input.*, log.offset, ...): strings as keywords, not text + keyword.
          { strings_as_keyword: { match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } } },
        ],
        properties,
      },
    },
    _meta: {
      description:
        "mta550's ECS documents (docs/ecs.md): rejection events, delivery attempts and onset alerts (logs-mta550.*-*), group metrics and tail summaries (metrics-mta550.*-*).",
      generated_by: `docs/pipelines/make-index-template.mjs from docs/ecs.md and @elastic/ecs ${ecsPackageVersion}; do not edit by hand`,
      load: 'PUT _index_template/mta550 with this file as the body, before the first document arrives',
      notes: [
        'priority 200 puts this template above the built-in logs and metrics templates (100) for these data streams; it replaces them, so add index.lifecycle.name or a data stream lifecycle as you need.',
        'ECS fields have exactly ECS mappings; mta550.* fields are keyword, long, boolean, date or match_only_text, and the mta550 object is dynamic: false.',
        'mta550.onset, mta550.group and mta550.finding are flattened: each is a whole record whose keys follow the onset engine, the report and the findings (and include values), so one flattened field indexes every leaf as a keyword (filter on mta550.onset.series.level, mta550.onset.attribution.top.attribute, mta550.group.statuses.status) without a mapping per key and without mapping conflicts when the record grows; numbers inside them are keywords (range and sum need a runtime field).',
        'mta550.summary is an object with enabled: false: a tail health record is read, not searched, and its per-file and per-cause keys would grow the mapping; it stays in _source.',
        'mta550.classification, mta550.message and mta550.app are mapped field by field (their shape is fixed and documented); the counts of mta550.message.other_recipients_by_status are longs via a dynamic template.',
      ],
    },
  };
  return sortDeep(template);
}

function main() {
  const { EcsFlat, version } = loadEcs();
  const text = `${JSON.stringify(buildTemplate(readFileSync(DOC, 'utf8'), EcsFlat, version), null, 2)}\n`;
  const arg = process.argv[2];
  if (arg === '--stdout') process.stdout.write(text);
  else if (arg === '--check') {
    let current = '';
    try {
      current = readFileSync(OUT, 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== text) {
      process.stderr.write('make-index-template: docs/pipelines/index-template.json is not what docs/ecs.md gives: run node docs/pipelines/make-index-template.mjs\n');
      process.exit(1);
    }
  } else if (arg === undefined) writeFileSync(OUT, text);
  else {
    process.stderr.write(`make-index-template: unknown argument ${arg} (--check, --stdout, or none)\n`);
    process.exit(2);
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
