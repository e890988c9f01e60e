import { chunkBytes } from './chunk.js';
import { encodeMeta, encodeWithMeta } from './frame.js';
import { FrameKind } from './kinds.js';
import { payloadRoom } from './limits.js';
import type { RequestMeta } from './meta.js';

/**
 * A Request and the body bytes at hand as frames of at most `maxFrameBytes` each: the Request carries as much of
 * the body as fits after its metadata, Body frames the rest. A body that arrived in NATS-sized parts may need more
 * tunnel frames than it had parts (a NATS `max_payload` can exceed what the connector accepts).
 */
export function encodeRequestFrames(id: number, meta: RequestMeta, body: readonly Uint8Array[], maxFrameBytes: number): Buffer[] {
  const metaBuf = encodeMeta(FrameKind.Request, meta);
  const room = payloadRoom(maxFrameBytes, metaBuf?.length ?? 0);
  const frames: Buffer[] = [];
  let parts = body.filter((p) => p.byteLength > 0);
  const first = parts[0];
  if (first && first.byteLength > room) {
    frames.push(encodeWithMeta(FrameKind.Request, id, metaBuf, first.subarray(0, room)));
    parts = [first.subarray(room), ...parts.slice(1)];
  } else {
    frames.push(encodeWithMeta(FrameKind.Request, id, metaBuf, first));
    parts = parts.slice(1);
  }
  for (const part of parts) frames.push(...encodeBodyFrames(id, part, maxFrameBytes));
  return frames;
}

/** A body part as Body frames of at most `maxFrameBytes` each. */
export function encodeBodyFrames(id: number, part: Uint8Array, maxFrameBytes: number): Buffer[] {
  const frames: Buffer[] = [];
  for (const p of chunkBytes(part, payloadRoom(maxFrameBytes))) frames.push(encodeWithMeta(FrameKind.Body, id, undefined, p));
  return frames;
}
