import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'nats';
import { z } from 'zod';
import { controlSubject, encodeControlEvent, type ControlEvent, type ControlEventName } from '@tokios/shared/control';

const DEV_FILE = 'dev-stack.json';
const devFileSchema = z.object({ natsUrl: z.string().max(2048), port: z.number().int(), pid: z.number().int() });

/** `tokios dev` notes where its NATS is, so `tokios admin` on the same data dir can reach it. */
export async function writeDevFile(dataDir: string, info: z.infer<typeof devFileSchema>): Promise<void> {
  await writeFile(join(dataDir, DEV_FILE), JSON.stringify(info), { mode: 0o600 });
}

export async function removeDevFile(dataDir: string): Promise<void> {
  await rm(join(dataDir, DEV_FILE), { force: true });
}

async function devNatsUrl(dataDir: string): Promise<string | undefined> {
  try {
    const r = devFileSchema.safeParse(JSON.parse(await readFile(join(dataDir, DEV_FILE), 'utf8')));
    return r.success ? r.data.natsUrl : undefined;
  } catch {
    return undefined;
  }
}

export type PendingEvent = { [N in ControlEventName]: { name: N; event: ControlEvent<N> } }[ControlEventName];

/**
 * Publishes control events so running replicas act at once (revocations). Tries NATS_URL, then the NATS of a
 * `tokios dev` on the same data dir. Returns where they went, or undefined when no NATS answered (replicas then
 * notice within their cache lifetime).
 */
export async function publishControlEvents(events: PendingEvent[], natsUrl: string | undefined, dataDir: string): Promise<string | undefined> {
  if (events.length === 0) return undefined;
  const candidates = [natsUrl, await devNatsUrl(dataDir)].filter((u): u is string => !!u);
  for (const url of [...new Set(candidates)]) {
    let nc;
    try {
      nc = await connect({ servers: url, timeout: 1_000, reconnect: false });
    } catch {
      continue;
    }
    for (const e of events) nc.publish(controlSubject(e.name), encodeControlEvent(e.name, e.event as never));
    await nc.flush();
    await nc.close();
    return url;
  }
  return undefined;
}
