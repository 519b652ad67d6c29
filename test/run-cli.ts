import type { ChildProcess } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { main } from '../src/cli.js';

/** Runs the CLI in-process with captured output (stdout is not a terminal). */
export async function runCli(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        append(chunk.toString('utf8'));
        cb();
      },
    });
  const input = new PassThrough();
  input.end(stdin);
  const code = await main(args, {
    stdin: input,
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    stdinHasData: stdin !== '',
    cwd: process.cwd(),
  });
  return { code, stdout, stderr };
}

/** What a spawned process wrote so far, and its exit code once it has closed. */
export function watch(child: ChildProcess): { out: () => string; err: () => string; exited: Promise<number | null> } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { out: () => stdout, err: () => stderr, exited };
}
