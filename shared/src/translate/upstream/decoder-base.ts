import { CodecError } from '../../codec/index.js';
import type { DecoderOptions, UpstreamDecoder } from '../adapter.js';
import type { ChatEvent } from '../pivot.js';
import { randomId } from '../util.js';

export const MSG_CUT = 'The model server closed the stream before it finished.';
export const MSG_EMPTY = 'The model server closed the stream without answering.';

/**
 * The state machine both upstream decoders share: events collected per push/end call, one error event and
 * silence after a failure, codec errors (oversized or malformed input) turned into that error. Subclasses feed
 * their line codec and say what an ended body means.
 */
export abstract class StreamDecoderBase implements UpstreamDecoder {
  protected readonly newId: (prefix: string) => string;
  protected readonly now: () => number;
  protected state: 'open' | 'done' | 'failed' = 'open';
  protected started = false;
  protected out: ChatEvent[] = [];

  constructor(
    options: DecoderOptions,
    private readonly messages: { tooLarge: string; malformed: string },
  ) {
    this.newId = options.newId ?? randomId;
    this.now = options.now ?? Date.now;
  }

  /** Hands bytes to the codec, whose sink calls back into the subclass. */
  protected abstract feed(chunk: Uint8Array | string): void;
  /** Flushes the codec at the end of the body. */
  protected abstract flush(): void;
  /** The body ended and the stream is still open: finish it, or fail (see MSG_CUT / MSG_EMPTY). */
  protected abstract ended(): void;

  push(chunk: Uint8Array | string): ChatEvent[] {
    const out: ChatEvent[] = (this.out = []);
    if (this.state !== 'open') return out;
    try {
      this.feed(chunk);
    } catch (err) {
      this.codecFailure(err);
    }
    return out;
  }

  end(): ChatEvent[] {
    const out: ChatEvent[] = (this.out = []);
    if (this.state !== 'open') return out;
    try {
      this.flush();
    } catch (err) {
      this.codecFailure(err);
    }
    if (this.state === 'open') this.ended();
    return out;
  }

  protected fail(message: string): void {
    this.out.push({ type: 'error', code: 'upstream_error', message });
    this.state = 'failed';
  }

  private codecFailure(err: unknown): void {
    if (!(err instanceof CodecError)) throw err;
    this.fail(err.code === 'line_too_long' || err.code === 'event_too_large' ? this.messages.tooLarge : this.messages.malformed);
  }
}
