import type { NatsConnection } from 'nats';
import type { Logger } from '@tokios/shared/log';
import { subjects, tailToken } from '@tokios/shared/subjects';
import { DEFAULT_NATS_MAX_PAYLOAD, NATS_RELAY_SLACK_BYTES, encodePairHeartbeats, type StreamBeat } from '@tokios/shared/protocol';
import type { RelayStream } from './relay.js';

/**
 * The terminator's side of pair heartbeats: once a period, every ingress with silent streams here gets one
 * PairHeartbeat listing them (shared/src/protocol/pair-heartbeat.ts), in as many messages as `max_payload` needs,
 * instead of a Heartbeat per stream: the message rate is per (terminator, ingress) pair, not per silent stream.
 * Each goes with a reply subject of its own pair, so a vanished ingress answers no-responders there, as it does
 * to a stream's own frames (awayIngress).
 */
export class PairHeartbeats {
  private readonly replyPrefix: string;

  constructor(
    private readonly terminatorId: string,
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {
    this.replyPrefix = subjects.pairHeartbeatReplyPrefix(terminatorId);
  }

  /** Lists every stream silent for `idleMs` in its ingress's PairHeartbeat; returns the messages published. */
  publish(streams: Iterable<RelayStream>, now: number, idleMs: number): number {
    const byIngress = new Map<string, StreamBeat[]>();
    for (const s of streams) {
      const ingress = s.beatIngress;
      if (ingress === undefined) continue;
      const published = s.silentBeat(now, idleMs);
      if (published < 0) continue;
      let beats = byIngress.get(ingress);
      if (!beats) byIngress.set(ingress, (beats = []));
      beats.push({ rid: s.rid, published });
    }
    const room = (this.nc.info?.max_payload ?? DEFAULT_NATS_MAX_PAYLOAD) - NATS_RELAY_SLACK_BYTES;
    let sent = 0;
    for (const [ingress, beats] of byIngress) {
      const subject = subjects.pairHeartbeat(ingress, this.terminatorId);
      const reply = subjects.pairHeartbeatReply(this.terminatorId, ingress);
      for (const message of encodePairHeartbeats(beats, room)) {
        try {
          this.nc.publish(subject, message, { reply });
          sent++;
        } catch (err) {
          this.log.warn({ ingressId: ingress, err: (err as Error).message }, 'pair heartbeat publish failed');
        }
      }
    }
    return sent;
  }

  /** The ingress a pair heartbeat's reply subject names (`tokios.term.<us>.hb.<ingress>`), else undefined. */
  ingressOfReply(subject: string): string | undefined {
    return tailToken(subject, this.replyPrefix);
  }
}
