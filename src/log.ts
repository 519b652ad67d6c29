/**
 * The tool's own operational log on standard error (notes, warnings, errors, run statistics):
 * one human line each (`mta550: ...`, the default), or with `--log-format ecs` one ECS JSON
 * document each through pino and @elastic/ecs-pino-format, so a tail daemon's health lands in the
 * same pipeline as its events. Standard output stays pure data either way.
 */
import type { Writable } from 'node:stream';
import { ecsFormat } from '@elastic/ecs-pino-format';
import { pino, type Logger } from 'pino';

export type LogFormat = 'text' | 'ecs';

/** Structured context of a record (ECS fields, ours under `mta550`), ignored by the text form. */
export type LogFields = Record<string, unknown>;

export interface OpLog {
  readonly format: LogFormat;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Human-only text (the line accounting table on a terminal): written as is in text form, skipped in ECS form. */
  human(text: string): void;
}

export function textLog(stderr: Writable): OpLog {
  const line = (m: string) => stderr.write(`mta550: ${m}\n`);
  return { format: 'text', info: line, warn: line, error: line, human: (t) => stderr.write(t) };
}

export function ecsLog(stderr: Writable, version: string): OpLog {
  const logger: Logger = pino(
    {
      ...ecsFormat({ convertErr: true, apmIntegration: false, serviceName: 'mta550', serviceVersion: version, eventDataset: 'mta550.log' }),
    },
    { write: (s: string) => stderr.write(s) },
  );
  return {
    format: 'ecs',
    info: (m, f) => logger.info(f ?? {}, m),
    warn: (m, f) => logger.warn(f ?? {}, m),
    error: (m, f) => logger.error(f ?? {}, m),
    human: () => undefined,
  };
}

/** `--log-format` from the raw arguments: known before the command line is parsed, so usage errors follow it too. */
export function logFormatOf(argv: readonly string[]): LogFormat {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--log-format' && argv[i + 1] === 'ecs') return 'ecs';
    if (a === '--log-format=ecs') return 'ecs';
  }
  return 'text';
}
