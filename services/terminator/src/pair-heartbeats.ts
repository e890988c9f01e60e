import { headers, type MsgHdrs, type NatsConnection } from 'nats';
import type { Logger } from '@tokios/shared/log';
import { subjects, tailToken } from '@tokios/shared/subjects';
import { DEFAULT_NATS_MAX_PAYLOAD, NATS_RELAY_SLACK_BYTES, PAIR_ROUND_END, PAIR_ROUND_HEADER, encodePairHeartbeats, type StreamBeat } from '@tokios/shared/protocol';
import type { RelayStream } from './relay.js';

/**
 * The terminator's side of pair heartbeats: once a period, every ingress with silent streams here gets one
 * PairHeartbeat listing them (shared/src/protocol/pair-heartbeat.ts), in as many messages as `max_payload` needs,
 * instead of a Heartbeat per stream: the message rate is per (terminator, ingress) pair, not per silent stream.
 * Each goes with a reply subject of its own pair, so a vanished ingress answers no-responders there, as it does
 * to a stream's own frames (awayIngress).
 *
 * Every ingress with a live stream here gets its round each period, empty when none is silent, its last message
 * marked (PAIR_ROUND_HEADER): the ingress judges our streams by the rounds it reads, so a stream missing from
 * them is one we lost, and a round that never comes is a terminator gone (services/ingress/src/terminator-watch.ts).
 */
export class PairHeartbeats {
  private readonly replyPrefix: string;
  /** The round-end header: the same for every round, made once. */
  private readonly roundEnd: MsgHdrs = headers();

  constructor(
    private readonly terminatorId: string,
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {
    this.replyPrefix = subjects.pairHeartbeatReplyPrefix(terminatorId);
    this.roundEnd.set(PAIR_ROUND_HEADER, PAIR_ROUND_END);
  }

  /**
   * One round to every ingress with a live stream here, listing its streams silent for `idleMs`; returns the
   * messages published.
   */
  publish(streams: Iterable<RelayStream>, now: number, idleMs: number): number {
    const byIngress = new Map<string, StreamBeat[]>();
    for (const s of streams) {
      const ingress = s.beatIngress;
      if (ingress === undefined) continue;
      let beats = byIngress.get(ingress);
      if (!beats) byIngress.set(ingress, (beats = []));
      const published = s.silentBeat(now, idleMs);
      if (published >= 0) beats.push({ rid: s.rid, published });
    }
    const room = (this.nc.info?.max_payload ?? DEFAULT_NATS_MAX_PAYLOAD) - NATS_RELAY_SLACK_BYTES;
    // A server without header support (pre-2.2) gets unmarked rounds: ingresses keep the per-stream check.
    const marked = this.nc.info?.headers !== false;
    let sent = 0;
    for (const [ingress, beats] of byIngress) {
      const subject = subjects.pairHeartbeat(ingress, this.terminatorId);
      const reply = subjects.pairHeartbeatReply(this.terminatorId, ingress);
      const messages = encodePairHeartbeats(beats, room);
      for (let i = 0; i < messages.length; i++) {
        try {
          this.nc.publish(subject, messages[i]!, marked && i === messages.length - 1 ? { reply, headers: this.roundEnd } : { reply });
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
