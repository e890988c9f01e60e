import { HEADER_BYTES, MAX_META_BYTES } from './layout.js';

/*
 * Sizes and times both ends of each hop agree on. Tunnel frame limits are per receiver: each side announces what it
 * accepts (`maxFrameBytes` in Hello and Welcome) and the sender splits to fit; a side that announced nothing (an
 * older version) is assumed to accept DEFAULT_TUNNEL_FRAME_BYTES.
 */

/** Largest tunnel frame (one WebSocket message) a side accepts unless it announced another limit. */
export const DEFAULT_TUNNEL_FRAME_BYTES = 1024 * 1024;
/** Smallest frame limit a side may announce or be configured with: the largest metadata fits, with as much room again for payload. */
export const MIN_TUNNEL_FRAME_BYTES = 2 * MAX_META_BYTES;
/** Largest frame limit a side may announce or be configured with. */
export const MAX_TUNNEL_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * A connector gathers answer bytes into Data frames of at most this payload (less when the terminator accepts less):
 * large enough that a fast stream costs few frames, small enough that the terminator relays each in place.
 */
export const MAX_DATA_PAYLOAD = 256 * 1024;

/** NATS `max_payload` assumed until the server's INFO says otherwise (nats-server's default). */
export const DEFAULT_NATS_MAX_PAYLOAD = 1024 * 1024;
/** Room the ingress keeps for a Request's metadata: a body up to `max_payload` minus this travels inline, else in Body parts. */
export const REQUEST_ENVELOPE_BYTES = 16 * 1024;
/** Room the terminator keeps below `max_payload` for each frame it relays to NATS; a larger Data frame is split. */
export const NATS_RELAY_SLACK_BYTES = 1024;

/** A connector must send Hello this soon after its WebSocket opens, or the terminator drops it. */
export const HELLO_TIMEOUT_MS = 10_000;
/** Either end drops a tunnel that sent nothing (not even a Pong) for this many ping intervals. */
export const TUNNEL_SILENT_PINGS = 3;

/** Payload bytes that fit in one frame of at most `frameBytes` with `metaBytes` of metadata. */
export function payloadRoom(frameBytes: number, metaBytes = 0): number {
  return frameBytes - HEADER_BYTES - metaBytes;
}

/**
 * Flow control (Pause/Unpause): a Pause holds a stream for this long unless renewed, so a lost Unpause (or a lost
 * Cancel behind it) never wedges a stream: at worst it stalls this long. The ingress renews a held stream's Pause every
 * PAUSE_RENEW_MS, so a few lost renewals do not let the answer run on into its buffers.
 */
export const PAUSE_LEASE_MS = 5_000;
export const PAUSE_RENEW_MS = 1_000;
/** The longest lease a Pause may ask for (a receiver refuses more: a stream is never held for long by one frame). */
export const MAX_PAUSE_LEASE_MS = 60_000;

/** Hello `features`: the connector understands Pause/Unpause (a terminator sends them to no other connector). */
export const FEATURE_PAUSE = 'pause';

/**
 * Welcome `features`: the terminator reads Batch messages on the tunnel (batch.ts), so the connector may send the
 * frames of one stream produced in one event-loop turn as one message (a connector sends none to any other).
 */
export const FEATURE_BATCH = 'batch';
