/**
 * --log-format ecs (#9): the tool's own messages on standard error as ECS JSON (pino with
 * @elastic/ecs-pino-format), standard output unchanged; text lines by default.
 */
import { describe, expect, it } from 'vitest';
import { unflatten } from '../src/output/ecs.js';
import { runCli } from './run-cli.js';

const SAMPLE = 'samples/postfix/001-remote-550-providers.log';
const records = (stderr: string) => stderr.split('\n').filter(Boolean).map((l) => unflatten(JSON.parse(l) as Record<string, unknown>) as Record<string, any>);

describe('--log-format', () => {
  it('ecs: run statistics as an ECS log record on stderr, the same data on stdout', async () => {
    const plain = await runCli(['analyze', SAMPLE, '--year', '2024', '-o', 'records']);
    const ecs = await runCli(['analyze', SAMPLE, '--year', '2024', '-o', 'records', '--log-format', 'ecs']);
    expect(ecs.code).toBe(0);
    expect(ecs.stdout).toBe(plain.stdout);
    expect(plain.stderr).toBe('');
    const [r, ...rest] = records(ecs.stderr);
    expect(rest).toEqual([]);
    expect(r).toMatchObject({ log: { level: 'info' }, ecs: { version: expect.any(String) }, service: { name: 'mta550' }, event: { dataset: 'mta550.log' }, message: 'analyze finished' });
    expect(r!.mta550).toEqual({ inputs: 1, lines: 67, decoded: 55, unsupported: 10, other_programs: 2, malformed: 0, events: 7 });
    expect(Number.isNaN(Date.parse(r!['@timestamp']))).toBe(false);
  });

  it('ecs: errors, usage errors included, are ECS error records with the exit code', async () => {
    const missing = await runCli(['analyze', '/nonexistent/mail.log', '--log-format', 'ecs']);
    expect(missing.code).toBe(1);
    expect(records(missing.stderr)).toEqual([expect.objectContaining({ log: { level: 'error' }, message: 'cannot read /nonexistent/mail.log: no such file or directory', error: { type: 'input_not_found' }, mta550: { exit_code: 1 } })]);
    const usage = await runCli(['analyze', '--bogus', '--log-format=ecs']);
    expect(usage.code).toBe(2);
    expect(records(usage.stderr)).toEqual([expect.objectContaining({ log: { level: 'error' }, message: 'Unknown argument: bogus', error: { type: 'usage' } })]);
  });

  it('text (the default): one human line per message', async () => {
    const missing = await runCli(['analyze', '/nonexistent/mail.log']);
    expect(missing.stderr).toBe('mta550: cannot read /nonexistent/mail.log: no such file or directory\n');
    expect((await runCli(['analyze', SAMPLE, '--log-format', 'xml'])).stderr).toMatch(/Invalid values:\n  Argument: log-format, Given: "xml", Choices: "text", "ecs"/);
  });
});
