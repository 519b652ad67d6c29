import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseCodes } from '../../src/aggregate/codes.js';
import { mayHoldAppLogs, runPipeline } from '../../src/pipeline.js';
import type { InputSource } from '../../src/input/resolve.js';
import type { RejectionEvent } from '../../src/model/event.js';

const file = (p: string): InputSource => ({ kind: 'file', path: p });
const stdin = new PassThrough();
const may = (sources: InputSource[], format?: 'app' | 'postfix') => mayHoldAppLogs(sources, { stdin, ...(format !== undefined ? { format } : {}) });

describe('whether a batch run may hold app logs (the MTA refusal index for app joins)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mta550-mayapp-'));
  const postfix = 'samples/postfix/001-remote-550-providers.log';
  const gz = path.join(dir, 'mail.log.1.gz');
  writeFileSync(gz, gzipSync(readFileSync(postfix)));

  it('is no for MTA logs only, plain or gzipped, in any number', async () => {
    expect(await may([file(postfix), file(gz), file('samples/exim/001-remote-550.log')])).toBe(false);
  });

  it('is yes as soon as one input is an app log, for standard input, --format app, and inputs it cannot read', async () => {
    expect(await may([file(postfix), file('samples/app/014-nodemailer-pino-relay.log')])).toBe(true);
    expect(await may([{ kind: 'stdin', path: '-' }])).toBe(true);
    expect(await may([file(postfix)], 'app')).toBe(true);
    expect(await may([file('samples/app/001-nodemailer-console.log')], 'postfix')).toBe(false);
    expect(await may([file(path.join(dir, 'missing.log'))])).toBe(true);
  });

  it('keeps app joins whatever the order of the inputs', async () => {
    for (const order of [0, 1]) {
      const inputs = ['samples/app/014-nodemailer-pino-relay.log', 'samples/app/relay/014-relay-postfix.log'].map(file);
      if (order === 1) inputs.reverse();
      const events: RejectionEvent[] = [];
      await runPipeline(inputs, { codes: parseCodes('5xx'), year: 2024, stdin }, { event: (e) => void events.push(e), outcome: () => {} });
      const linked = events.filter((e) => e.app?.link != null);
      expect(linked.length).toBeGreaterThan(0);
    }
  });
});
