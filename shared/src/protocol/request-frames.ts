import { chunkBytes } from './chunk.js';
import { MAX_META_BYTES, encodeWithJson, encodeWithMeta, metaBytes } from './frame.js';
import { ProtocolError } from './errors.js';
import { FrameKind } from './kinds.js';
import { payloadRoom } from './limits.js';
import type { RequestMeta } from './meta.js';

/**
 * A Request and the body bytes at hand as frames of at most `maxFrameBytes` each: the Request carries as much of
 * the body as fits after its metadata, Body frames the rest. A body that arrived in NATS-sized parts may need more
 * tunnel frames than it had parts (a NATS `max_payload` can exceed what the connector accepts).
 */
export function encodeRequestFrames(id: number, meta: RequestMeta, body: readonly Uint8Array[], maxFrameBytes: number): Buffer[] {
  return encodeRequestJsonFrames(id, JSON.stringify(meta), body, maxFrameBytes);
}

/** encodeRequestFrames around the Request's metadata already as JSON text (a hand-written encoder's, meta-json.ts). */
export function encodeRequestJsonFrames(id: number, json: string, body: readonly Uint8Array[], maxFrameBytes: number): Buffer[] {
  const metaLen = metaBytes(FrameKind.Request, json);
  return requestFrames(id, metaLen, (inline) => encodeWithJson(FrameKind.Request, id, json, metaLen, inline), body, maxFrameBytes);
}

/** encodeRequestFrames around the Request's metadata already as JSON bytes (request-fast.ts: a Request's own, cut). */
export function encodeRequestMetaFrames(id: number, meta: Buffer, body: readonly Uint8Array[], maxFrameBytes: number): Buffer[] {
  if (meta.length > MAX_META_BYTES) throw new ProtocolError(`Request metadata is ${meta.length} bytes, over ${MAX_META_BYTES}`);
  return requestFrames(id, meta.length, (inline) => encodeWithMeta(FrameKind.Request, id, meta, inline), body, maxFrameBytes);
}

/** The Request (made by `request` around the body bytes it carries inline) and Body frames for the rest. */
function requestFrames(id: number, metaLen: number, request: (inline: Uint8Array | undefined) => Buffer, body: readonly Uint8Array[], maxFrameBytes: number): Buffer[] {
  const room = payloadRoom(maxFrameBytes, metaLen);
  let i = 0;
  while (i < body.length && body[i]!.byteLength === 0) i++;
  const first = body[i++];
  // The Request carries as much of the first non-empty part as fits; what is left of it goes in Body frames.
  const inline = first && first.byteLength > room ? first.subarray(0, room) : first;
  const frames = [request(inline)];
  if (first && inline !== first) frames.push(...encodeBodyFrames(id, first.subarray(room), maxFrameBytes));
  for (; i < body.length; i++) if (body[i]!.byteLength > 0) frames.push(...encodeBodyFrames(id, body[i]!, maxFrameBytes));
  return frames;
}

/** A body part as Body frames of at most `maxFrameBytes` each. */
export function encodeBodyFrames(id: number, part: Uint8Array, maxFrameBytes: number): Buffer[] {
  const frames: Buffer[] = [];
  for (const p of chunkBytes(part, payloadRoom(maxFrameBytes))) frames.push(encodeWithMeta(FrameKind.Body, id, undefined, p));
  return frames;
}
