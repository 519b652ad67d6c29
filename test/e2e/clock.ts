/**
 * A clock the test moves for a real MTA: libfaketime (Debian's, unpacked by setup.sh) preloaded into
 * every process of the MTA reads an offset from a file at each clock call, so the MTA logs hours of
 * traffic in seconds (an onset needs an hour of baseline). The offset only grows, so the log's time
 * never runs backwards.
 */
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class FakeClock {
  private offsetMs = 0;
  private readonly file: string;
  /** The environment that puts a process (and the children it keeps it for) on this clock. */
  readonly env: Record<string, string>;

  constructor(root: string, dir: string) {
    this.file = path.join(dir, 'faketime.rc');
    this.env = {
      LD_PRELOAD: path.join(root, 'usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1'),
      FAKETIME_TIMESTAMP_FILE: this.file,
      // Read the file at every clock call: a cached offset would lag the test's moves by 10 s.
      FAKETIME_NO_CACHE: '1',
    };
    this.write();
  }

  /** The MTA's time now. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves the MTA's clock forward by `ms` (whole seconds). */
  advance(ms: number): void {
    if (ms < 0) throw new Error('a fake clock only moves forward');
    this.offsetMs += Math.round(ms / 1000) * 1000;
    this.write();
  }

  private write(): void {
    // Renamed into place: a process reading it mid-write would see no offset at all.
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `+${this.offsetMs / 1000}\n`);
    renameSync(tmp, this.file);
  }
}
