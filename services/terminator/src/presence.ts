import { z } from 'zod';
import type { NatsConnection, Subscription } from 'nats';
import { subjects } from '@tokios/shared/subjects';
import { idSchema } from '@tokios/shared/protocol';
import type { Logger } from '@tokios/shared/log';
import { FabricGate, publishSigned, type FabricKey } from '@tokios/shared/fabric-auth';

/** A tunnel URL a connector may be sent to (ws, wss, or their http forms): nothing else ever reaches a connector. */
const tunnelUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      return ['ws:', 'wss:', 'http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  });

/** Anything on the presence subject is untrusted input: validated as strictly as the Welcome that relays it. */
const announceSchema = z.object({
  id: idSchema,
  url: tunnelUrl.nullable(),
  leaving: z.boolean().optional(),
});

const ANNOUNCE_MS = 2_000;
const EXPIRE_MS = 3 * ANNOUNCE_MS;

/**
 * Terminators announce their tunnel URL on NATS so each can tell connectors where its peers are. Announcements
 * are signed (shared/src/fabric-auth): a forged one would send connectors, with their tunnel tokens, elsewhere.
 */
export class Presence {
  private readonly peers = new Map<string, { url: string; seen: number }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private sub: Subscription | undefined;
  private readonly gate: FabricGate;

  constructor(
    private readonly nc: NatsConnection,
    private readonly key: FabricKey,
    private readonly id: string,
    private readonly url: string | undefined,
    private readonly log: Logger,
    /** Called when a terminator not seen before (or expired) announces itself. */
    private readonly onPeerJoined: () => void = () => undefined,
  ) {
    this.gate = new FabricGate(key, 'terminator presence', log);
  }

  start(): void {
    this.sub = this.nc.subscribe(subjects.presence, {
      callback: (_err, msg) => {
        if (!this.gate.accept(msg)) return;
        let parsed;
        try {
          parsed = announceSchema.safeParse(JSON.parse(Buffer.from(msg.data).toString('utf8')));
        } catch {
          return;
        }
        if (!parsed.success || parsed.data.id === this.id) return;
        const { id, url, leaving } = parsed.data;
        if (leaving || !url) {
          this.peers.delete(id);
          return;
        }
        const known = this.peers.get(id);
        const fresh = !known || Date.now() - known.seen > EXPIRE_MS;
        this.peers.set(id, { url, seen: Date.now() });
        if (fresh) this.onPeerJoined();
      },
    });
    this.announce();
    this.timer = setInterval(() => this.announce(), ANNOUNCE_MS);
    this.timer.unref();
  }

  /** Live peers and their tunnel URLs. */
  livePeers(): { id: string; url: string }[] {
    const now = Date.now();
    const out: { id: string; url: string }[] = [];
    for (const [id, p] of this.peers) {
      if (now - p.seen > EXPIRE_MS) this.peers.delete(id);
      else out.push({ id, url: p.url });
    }
    return out;
  }

  /** Announces that this terminator leaves (peers drop it from their Welcomes at once); idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.sub?.unsubscribe();
    this.publish({ id: this.id, url: this.url ?? null, leaving: true });
  }

  private announce(): void {
    this.publish({ id: this.id, url: this.url ?? null });
  }

  private publish(body: z.infer<typeof announceSchema>): void {
    try {
      publishSigned(this.nc, this.key, subjects.presence, JSON.stringify(body));
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'presence publish failed');
    }
  }
}
