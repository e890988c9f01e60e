/** A frame that cannot be decoded or whose metadata fails validation. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
