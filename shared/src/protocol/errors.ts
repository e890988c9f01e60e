import type { FrameKind } from './kinds.js';

/** A frame that cannot be decoded or whose metadata fails validation. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /**
   * Set when the header was sound and only the metadata failed validation: the receiver knows which stream the
   * frame was for and may fail just that stream (e.g. a Request using a protocol this version does not know).
   */
  readonly frame: { readonly kind: FrameKind; readonly id: number } | undefined;
  constructor(message: string, options?: { cause?: unknown; frame?: { kind: FrameKind; id: number } }) {
    super(message, options);
    this.frame = options?.frame;
  }
}
