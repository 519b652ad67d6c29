/**
 * A writer over stdout (or any Writable) that respects backpressure and treats a closed pipe
 * (`mta550 ... | head -1`) as a quiet end: later writes are dropped and `closed` turns true so the
 * pipeline stops reading. Other write errors are kept and reported once.
 */
import type { Writable } from 'node:stream';

export class OutputWriter {
  closed = false;
  error: Error | null = null;

  constructor(private readonly out: Writable) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      this.closed = true;
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') this.error = err;
    });
  }

  /** Writes text; resolves when the stream can take more. */
  async write(text: string): Promise<void> {
    if (this.closed) return;
    if (this.out.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('error', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('error', done);
      this.out.on('close', done);
    });
  }

  /** Resolves when everything written so far has been handed to the OS. */
  async end(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      // Writing an empty chunk with a callback flushes in order without closing stdout.
      this.out.write('', () => resolve());
    });
  }
}
