/** Writes `lines` seeded Postfix log lines to `path` (see generate.mjs). */
export function generate(path: string, lines: number, seed?: number, domainCount?: number, options?: { notifications?: boolean }): Promise<void>;
