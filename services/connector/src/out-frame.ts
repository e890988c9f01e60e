import { FrameKind, HEADER_BYTES, writeFrameHeader } from '@tokios/shared/protocol';

/**
 * A stream's frame not encoded yet: its header, metadata JSON and payload parts are written straight into the message
 * it leaves in (TunnelSender), so a quick answer's Head, Data and End cost one buffer for the turn instead of one per
 * frame and one more for the Batch that copies them. The bytes are the ones encodeWithJson / encodeDataFrame write.
 * `parts` are held until the turn ends: views of the model server's socket reads, which Node allocates per read.
 */
export class OutFrame {
  /** The encoded frame's size. */
  readonly bytes: number;

  private constructor(
    private readonly kind: FrameKind,
    private readonly sid: number,
    /** Metadata JSON text of `metaLen` UTF-8 bytes (metaBytes checked the bound), or '' with 0. */
    private readonly json: string,
    private readonly metaLen: number,
    private readonly parts: readonly Uint8Array[] | undefined,
    payloadLen: number,
  ) {
    this.bytes = HEADER_BYTES + metaLen + payloadLen;
  }

  /** A frame with metadata and no payload (Head, End). */
  static meta(kind: FrameKind, sid: number, json: string, metaLen: number): OutFrame {
    return new OutFrame(kind, sid, json, metaLen, undefined, 0);
  }

  /** A Data frame whose payload is `parts` joined (`total` bytes); the array and its parts must not change after. */
  static data(sid: number, parts: readonly Uint8Array[], total: number): OutFrame {
    return new OutFrame(FrameKind.Data, sid, '', 0, parts, total);
  }

  /** Writes the frame at `off` of `out` (`bytes` of room); returns the offset after it. */
  writeTo(out: Buffer, off: number): number {
    writeFrameHeader(out, off, this.kind, this.sid, this.metaLen);
    off += HEADER_BYTES;
    if (this.metaLen > 0) off += out.write(this.json, off, this.metaLen, 'utf8');
    if (this.parts !== undefined) {
      for (const p of this.parts) {
        out.set(p, off);
        off += p.byteLength;
      }
    }
    return off;
  }

  /** The frame in a buffer of its own (a lone frame of its turn, or a terminator that reads no Batch). */
  encode(): Buffer {
    const out = Buffer.allocUnsafe(this.bytes);
    this.writeTo(out, 0);
    return out;
  }
}

/** A frame for the tunnel: encoded already (a Buffer), or to be written where it leaves. */
export type StreamFrameOut = Buffer | OutFrame;

export function frameBytes(f: StreamFrameOut): number {
  return f instanceof OutFrame ? f.bytes : f.length;
}

/** Writes `f` at `off` of `out`; returns the offset after it. */
export function writeFrameOut(out: Buffer, off: number, f: StreamFrameOut): number {
  if (f instanceof OutFrame) return f.writeTo(out, off);
  out.set(f, off);
  return off + f.length;
}

/** `f` as one buffer. */
export function encodeFrameOut(f: StreamFrameOut): Buffer {
  return f instanceof OutFrame ? f.encode() : f;
}
