import { createReadStream } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { withFileLock } from './file-lock.js';
import { usageRecordSchema } from './inputs.js';
import { UsageAccumulator, matchesUsageQuery } from './usage.js';
import type { UsageQuery, UsageRecord, UsageReport } from './types.js';

/**
 * Usage for the embedded store: `usage.jsonl` in the data dir, one record per line, appended under its own
 * lock (`usage.lock`) so writers from several processes never interleave. Queries scan the whole file; a
 * line that does not parse (e.g. torn by a crash) is skipped, and a repeated id counts once.
 * The file is never rotated or compacted (out of scope for the embedded store).
 */
export class UsageLog {
  readonly file: string;
  private readonly lockFile: string;

  constructor(dir: string) {
    this.file = join(dir, 'usage.jsonl');
    this.lockFile = join(dir, 'usage.lock');
  }

  async append(records: readonly UsageRecord[]): Promise<void> {
    if (records.length === 0) return;
    const text = records.map((r) => JSON.stringify(r) + '\n').join('');
    await withFileLock(this.lockFile, async () => {
      // A line torn by a crash must not swallow the first new record.
      const sep = (await this.endsMidLine()) ? '\n' : '';
      await appendFile(this.file, sep + text, { mode: 0o600 });
    });
  }

  private async endsMidLine(): Promise<boolean> {
    const fh = await open(this.file, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (!fh) return false;
    try {
      const { size } = await fh.stat();
      if (size === 0) return false;
      const { buffer } = await fh.read(Buffer.alloc(1), 0, 1, size - 1);
      return buffer[0] !== 0x0a;
    } finally {
      await fh.close();
    }
  }

  async query(q: UsageQuery): Promise<UsageReport> {
    const acc = new UsageAccumulator(q);
    const seen = new Set<string>();
    for await (const r of this.records()) {
      if (!matchesUsageQuery(r, q) || seen.has(r.id)) continue;
      seen.add(r.id);
      acc.add(r);
    }
    return acc.report();
  }

  private async *records(): AsyncGenerator<UsageRecord> {
    const input = createReadStream(this.file, { encoding: 'utf8' });
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (!line) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue;
        }
        const r = usageRecordSchema.safeParse(parsed);
        if (r.success) yield r.data;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    } finally {
      lines.close();
      input.destroy();
    }
  }
}
