import { FrameKind } from './kinds.js';
import { ProtocolError } from './errors.js';
import { HEADER_BYTES, ID_OFFSET, META_LEN_OFFSET, readU32, writeU32 } from './layout.js';

/**
 * Batch: several frames of one stream in one message, on both hops where the receiver announced it reads them:
 *  - NATS, terminator → ingress, to an ingress whose Request says `batches`. A quick answer is Ack, Head, Data and
 *    End, all known within one event-loop turn; as one message they cost NATS, the terminator and the ingress one
 *    message each instead of four. The batch's id is 0 (its frames carry their sequence numbers).
 *  - The tunnel, connector → terminator, to a terminator whose Welcome lists FEATURE_BATCH: a quick answer's Head,
 *    Data and End are one WebSocket message instead of three. The batch's id is the stream's, and every frame in it
 *    is of that stream and of an answer kind (splitTunnelBatch).
 * The frames inside are the ones that would have been sent one by one, unchanged (sequence numbers, replay and gap
 * checks see no difference): a Batch is a transport envelope, never stored, never nested.
 *
 * Layout: a frame header (kind Batch, id, no metadata), then per frame `u32 length | frame bytes`.
 */
export const BATCH_ENTRY_BYTES = 4;

/** The bytes a batch of frames totalling `frameBytes` takes, for `count` frames. */
export function batchBytes(count: number, frameBytes: number): number {
  return HEADER_BYTES + count * BATCH_ENTRY_BYTES + frameBytes;
}

/** One Batch message around `frames` (already encoded; at least two, else send the frame itself), with id `id`. */
export function encodeBatch(frames: readonly Uint8Array[], frameBytes = frames.reduce((n, f) => n + f.byteLength, 0), id = 0): Buffer {
  const out = Buffer.allocUnsafe(batchBytes(frames.length, frameBytes));
  writeBatch(out, 0, frames, id);
  return out;
}

/**
 * Writes the Batch message around `frames` into `out` at `off` (batchBytes of them: the caller sized it); returns
 * the offset after it. For a caller that keeps the batch inside a larger buffer of its own (no buffer per batch).
 */
export function writeBatch(out: Uint8Array, off: number, frames: readonly Uint8Array[], id = 0): number {
  off = writeBatchHeader(out, off, id);
  for (const f of frames) {
    writeU32(out, off, f.byteLength);
    out.set(f, off + BATCH_ENTRY_BYTES);
    off += BATCH_ENTRY_BYTES + f.byteLength;
  }
  return off;
}

/**
 * Writes a Batch message's header at `off` of `out`; returns the offset of its first entry, where each frame follows
 * as `u32 length | frame bytes` (writeBatch, or a caller that writes the frames in place itself).
 */
export function writeBatchHeader(out: Uint8Array, off: number, id = 0): number {
  out[off] = FrameKind.Batch;
  writeU32(out, off + ID_OFFSET, id);
  writeU32(out, off + META_LEN_OFFSET, 0);
  return off + HEADER_BYTES;
}

/**
 * The frames of a Batch message, as views into it (no copy). Refuses anything malformed: metadata on the batch, an
 * entry running past the end, an entry shorter than a frame header, a nested batch, an empty batch. The frames
 * themselves are decoded (and validated) by the caller, like any other.
 */
export function splitBatch(buf: Buffer): Buffer[] {
  const bounds = batchFrameBounds(buf);
  const frames: Buffer[] = [];
  for (let i = 0; i < bounds.length; i += 2) frames.push(buf.subarray(bounds[i], bounds[i + 1]));
  return frames;
}

/**
 * splitBatch's checks, without a view per frame: each frame's [start, end) in `buf`, as consecutive pairs (the
 * ingress decodes an answer's frames in place, decodeFrameIn; a view is a typed-array object each).
 */
export function batchFrameBounds(buf: Buffer): number[] {
  if (buf.length < HEADER_BYTES || buf[0] !== FrameKind.Batch) throw new ProtocolError('not a Batch message');
  if (readU32(buf, META_LEN_OFFSET) !== 0) throw new ProtocolError('Batch messages carry no metadata');
  const bounds: number[] = [];
  let off = HEADER_BYTES;
  while (off < buf.length) {
    if (off + BATCH_ENTRY_BYTES > buf.length) throw new ProtocolError('Batch entry length runs past the end of the message');
    const len = readU32(buf, off);
    off += BATCH_ENTRY_BYTES;
    if (len < HEADER_BYTES) throw new ProtocolError(`Batch entry of ${len} bytes is shorter than a frame header`);
    if (off + len > buf.length) throw new ProtocolError(`Batch entry of ${len} bytes runs past the end of the message`);
    if (buf[off] === FrameKind.Batch) throw new ProtocolError('Batch messages do not nest');
    bounds.push(off, off + len);
    off += len;
  }
  if (bounds.length === 0) throw new ProtocolError('empty Batch message');
  return bounds;
}

/** The frame kinds a connector may put in a tunnel Batch: a stream's answer, nothing of the tunnel session. */
const TUNNEL_BATCH_KINDS: ReadonlySet<number> = new Set([FrameKind.Head, FrameKind.Data, FrameKind.End, FrameKind.Error, FrameKind.Reject]);

/**
 * The frames of a tunnel Batch from a connector, as views into it (no copy), refused whole when anything in the
 * envelope is wrong (what splitBatch refuses, and a frame of another stream than the batch's id, or of a kind that is
 * not a stream's answer: Hello, Ping, Status, an unknown kind). Each frame is then checked by the receiver exactly as
 * if it had come alone.
 */
export function splitTunnelBatch(buf: Buffer): Buffer[] {
  const frames = splitBatch(buf);
  const sid = readU32(buf, ID_OFFSET);
  for (const f of frames) {
    if (!TUNNEL_BATCH_KINDS.has(f[0]!)) throw new ProtocolError(`a tunnel Batch carries answer frames only, not kind ${f[0]}`);
    if (readU32(f, ID_OFFSET) !== sid) throw new ProtocolError(`a tunnel Batch of stream ${sid} carries a frame of stream ${readU32(f, ID_OFFSET)}`);
  }
  return frames;
}

/** The kind of a message's last frame (a Batch's last entry, else the frame's own); -1 for a malformed Batch. */
export function lastFrameKind(message: Uint8Array): number {
  if (message.byteLength === 0) return -1;
  if (message[0] !== FrameKind.Batch) return message[0]!;
  try {
    const buf = Buffer.isBuffer(message) ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    return splitBatch(buf).at(-1)![0]!;
  } catch {
    return -1;
  }
}
