import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const DEV_FILE = 'dev-stack.json';
const devFileSchema = z.object({
  natsUrl: z.string().max(2048),
  /** Where the dev stack's own nats-server keeps the role credentials (absent when NATS_URL was given). */
  natsDir: z.string().max(4096).optional(),
  port: z.number().int(),
  pid: z.number().int(),
});
export type DevFile = z.infer<typeof devFileSchema>;

/**
 * `tokios dev` notes where its NATS is (it may have started its own on a free port), so `tokios admin` on the
 * same data dir can publish control events there and revocations take effect at once.
 */
export async function writeDevFile(dataDir: string, info: DevFile): Promise<void> {
  await writeFile(join(dataDir, DEV_FILE), JSON.stringify(info), { mode: 0o600 });
}

export async function removeDevFile(dataDir: string): Promise<void> {
  await rm(join(dataDir, DEV_FILE), { force: true });
}

/** The NATS of a running `tokios dev` on this data dir, if any. */
export async function readDevFile(dataDir: string): Promise<DevFile | undefined> {
  try {
    const r = devFileSchema.safeParse(JSON.parse(await readFile(join(dataDir, DEV_FILE), 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
