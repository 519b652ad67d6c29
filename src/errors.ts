/**
 * Usage and I/O errors: one class, a typed code, one message template (STYLE.md habit 7).
 * Bad data is never an error: it is counted in the run summary.
 */

export type ErrorCode =
  | 'usage' // bad option or argument
  | 'input_not_found' // a named file or directory does not exist
  | 'input_unreadable' // permission denied or another read error
  | 'input_no_match' // a glob or directory gave no file
  | 'input_unsupported' // a compression we do not read (bzip2, xz, zstd)
  | 'output_failed' // writing the output failed (other than a closed pipe)
  | 'internal';

/**
 * Exit codes (documented in the README and tested): 0 ok, 1 runtime error, 2 usage error, 3 malformed
 * lines under --strict, 130/143 interrupted by SIGINT/SIGTERM during a batch run (128 + signal).
 */
export const EXIT = { ok: 0, runtime: 1, usage: 2, strict: 3, sigint: 130, sigterm: 143 } as const;

export class Mta550Error extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'Mta550Error';
  }

  get exitCode(): number {
    return this.code === 'usage' ? EXIT.usage : EXIT.runtime;
  }
}

/** `cannot read PATH: REASON (HINT)` for a failed fs call. */
export function readError(path: string, err: unknown): Mta550Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new Mta550Error('input_not_found', `cannot read ${path}: no such file or directory`);
    case 'EACCES':
    case 'EPERM':
      return new Mta550Error(
        'input_unreadable',
        `cannot read ${path}: permission denied (run as root or as a member of the group that owns it, often adm)`,
      );
    case 'EISDIR':
      return new Mta550Error('input_unreadable', `cannot read ${path}: is a directory`);
    default: {
      const text = err instanceof Error ? err.message : String(err);
      return new Mta550Error('input_unreadable', `cannot read ${path}: ${text}`);
    }
  }
}
