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
