import type { Msg } from 'nats';
import {
  FrameKind, batchFrameBounds, dataFrameIdIn, dataPayloadIn, decodeFrameIn, frameKindName, peekKind, type EndMeta, type Frame,
  type HeadMeta,
} from '@tokios/shared/protocol';
import { TokiosError, isErrorCode } from '@tokios/shared/errors';
import type { FabricClient } from './fabric.js';
import type { CallInput } from './call-dispatch.js';
import { CallWatch } from './call-watch.js';

export { MAX_REQUEST_SENDS, MAX_SENT_BODY_BYTES, NO_RESPONDERS_WINDOW_MS, type CallInput } from './call-dispatch.js';

export interface CallHandlers {
  onHead(head: HeadMeta): void;
  onData(payload: Buffer): void;
  onEnd(end: EndMeta): void;
  onError(err: TokiosError): void;
}

/**
 * One request's life on the fabric: publish, Ack, body parts, frames back, retries before the Ack (CallDispatch);
 * across a NATS reconnect of this ingress, a new request is held (up to the Ack timeout) and published once the
 * connection is back, and a stream in flight asks its terminator for what it missed (Resume; the terminator keeps a
 * replay buffer) instead of failing (CallWatch). This layer takes the frames and assembles the answer for the caller.
 */
export class Call extends CallWatch {
  constructor(
    fabric: FabricClient,
    input: CallInput,
    private readonly handlers: CallHandlers,
  ) {
    super(fabric, input);
  }

  onMessage(msg: Msg): void {
    if (this.done) return;
    // Read once: with NATS headers, nats.js's `data` getter makes a new view per read. Usually it is a Buffer already
    // (a view into the socket's read); a view of our own is made only when it is not.
    const data = msg.data;
    if (data.length === 0 && msg.headers?.code === 503) return this.onNoResponders();
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.heard(Date.now());
    try {
      if (peekKind(buf) !== FrameKind.Batch) return this.onOne(buf, 0, buf.length);
      // Frames of one attempt: one that ends it (End, Error, a Reject that places the request again) ends the batch.
      // Checked whole first, then read in place (no view per frame).
      const rid = this.rid;
      const bounds = batchFrameBounds(buf);
      for (let i = 0; i < bounds.length; i += 2) {
        if (this.done || this.rid !== rid) return;
        this.onOne(buf, bounds[i]!, bounds[i + 1]!);
      }
    } catch (err) {
      this.protocolError((err as Error).message);
    }
  }

  /** The frame in `buf[start, end)`: the whole message, or one entry of a Batch. */
  private onOne(buf: Buffer, start: number, end: number): void {
    if (start < end && buf[start] === FrameKind.Data) this.onData(buf, start, end);
    else this.onFrame(decodeFrameIn(buf, start, end));
  }

  private onFrame(frame: Frame): void {
    switch (frame.kind) {
      case FrameKind.Ack:
        return this.onAck(frame.meta);
      case FrameKind.Heartbeat:
        return this.beat(frame.id);
      case FrameKind.Reject:
        return this.onReject(frame.meta);
      case FrameKind.Head:
        if (this.headSeen) return; // a replay
        this.headSeen = true;
        this.handlers.onHead(frame.meta);
        return;
      case FrameKind.End:
        if (frame.meta.frames > this.seq) return this.askResume(`stream ended after ${this.seq} of ${frame.meta.frames} frames`);
        if (frame.meta.frames !== this.seq) return this.protocolError(`stream ended after ${this.seq} of ${frame.meta.frames} frames`);
        this.finish();
        this.handlers.onEnd(frame.meta);
        return;
      case FrameKind.Error: {
        const { code, message, param } = frame.meta;
        return this.fail(new TokiosError(isErrorCode(code) ? code : 'upstream_error', message, { param: param ?? null }));
      }
      default:
        return this.protocolError(`unexpected ${frameKindName(frame.kind)} frame`);
    }
  }

  /**
   * Hot path: a Data frame is checked by its header (the sequence number) and handed on without decoding. An
   * earlier one is a replay of what arrived already; a later one means frames were lost: ask for them.
   */
  private onData(buf: Buffer, start: number, end: number): void {
    const seq = dataFrameIdIn(buf, start, end);
    if (seq < this.seq) return;
    if (seq > this.seq) return this.askResume(`frame ${seq} arrived, expected ${this.seq}: a part of the answer was lost`);
    this.seq++;
    this.gapFilled();
    this.handlers.onData(dataPayloadIn(buf, start, end));
  }

  /** Checked by the fabric's sweeper: missing Ack, or silence after it, or a fabric outage past the Ack timeout. */
  checkTimers(now: number): void {
    if (this.done || this.retryTimer) return;
    if (now > this.deadline) return this.fail(new TokiosError('timeout'));
    if (!this.fabric.linkUp) {
      // Held across the reconnect, as long as an Ack may take: a node killed outright fails calls within about 1 s.
      const since = Math.max(this.fabric.downSince, this.held ? this.sentAt : 0);
      if (now - since > this.fabric.options.ackTimeoutMs) {
        this.fail(new TokiosError('fabric_unavailable', 'The gateway fabric (NATS) is unavailable; retry shortly.', { headers: { 'retry-after': '1' } }));
      }
      return;
    }
    if (!this.acked) return this.checkAck(now);
    this.checkStream(now);
  }

  cancel(reason: string): void {
    if (this.done) return;
    if (this.control) this.fabric.sendCancel(this.control, reason);
    this.finish();
  }

  fail(err: TokiosError): void {
    if (this.done) return;
    if (this.control) this.fabric.sendCancel(this.control, err.code);
    this.finish();
    this.handlers.onError(err);
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.retryTimer);
    this.fabric.forget(this);
  }
}
