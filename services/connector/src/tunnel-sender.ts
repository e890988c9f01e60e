import type { WebSocket } from 'ws';
import { TurnCork, socketOf } from '@tokios/shared/net';
import { BATCH_ENTRY_BYTES, batchBytes, writeBatchHeader, writeU32 } from '@tokios/shared/protocol';
import { encodeFrameOut, frameBytes, writeFrameOut, type StreamFrameOut } from './out-frame.js';

const SEND_OPTIONS = { binary: true, compress: false } as const;

/** One stream's frames of the current event-loop turn (an ActiveRequest holds one for its life). */
export class StreamOutbox {
  /** Frames of this turn, in order (OutFrames are written straight into the message they leave in). */
  frames: StreamFrameOut[] = [];
  bytes = 0;
  /** In the sender's queue for this turn. */
  queued = false;

  constructor(readonly sid: number) {}
}

/**
 * Writes tunnel frames as WebSocket messages. Frames sent during one event-loop turn (Head, Data and End of a short
 * answer; Data of many streams) leave in one socket write instead of one write each (TurnCork).
 *
 * To a terminator that reads Batch messages (`batching`, from its Welcome), the frames of one stream sent in one
 * turn leave as one message (a Batch, split to fit the terminator's frame limit; a lone frame as itself): a quick
 * answer is one message for the terminator to take in instead of three. Everything sent meanwhile waits in the turn's
 * queue, in order, and the queue goes out in one socket write at the end of the turn (setImmediate, where TurnCork
 * uncorks too: no later than the frames left before). A stream's frames leave at the place of its first one in the
 * turn: frames are only ever moved earlier, never later, so a Ping sent as a barrier still follows everything sent
 * before it.
 */
export class TunnelSender {
  private readonly turn = new TurnCork();
  /** The terminator reads Batch messages (its Welcome listed FEATURE_BATCH). */
  private batching = false;
  /** The largest message the terminator accepts (its Welcome's maxFrameBytes). */
  private maxMessageBytes = 0;
  /** This turn's messages, in order: plain frames, and the outboxes of streams that sent in this turn. */
  private queue: (Buffer | StreamOutbox)[] = [];
  /** Bytes in the queue (counted as buffered by the tunnel's flow control). */
  private queuedBytes = 0;
  /** The socket the queue goes to (set with its first entry). */
  private queuedWs: WebSocket | undefined;
  private scheduled = false;

  /** What the terminator of the current socket reads (after each Welcome); `batching` false goes back to plain frames. */
  configure(batching: boolean, maxMessageBytes: number): void {
    if (!batching) this.flush();
    this.batching = batching;
    this.maxMessageBytes = maxMessageBytes;
  }

  /** Bytes accepted but not yet handed to the socket. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Sends `frame` as one binary message on `ws`, which must be open. */
  send(ws: WebSocket, frame: Buffer): void {
    if (this.queue.length === 0) return this.sendNow(ws, frame);
    // Behind the stream frames of this turn: a Ping (a barrier) must not overtake them.
    this.enqueue(ws, frame, frame.length);
  }

  /** Sends `frame`, of the stream of `out`, in the same message as the stream's other frames of this turn when it can. */
  sendStream(ws: WebSocket, out: StreamOutbox, frame: StreamFrameOut): void {
    if (!this.batching) return this.send(ws, encodeFrameOut(frame));
    if (out.queued && this.queuedWs !== ws) this.flush();
    const bytes = frameBytes(frame);
    out.frames.push(frame);
    out.bytes += bytes;
    if (out.queued) {
      this.queuedBytes += bytes;
      return;
    }
    out.queued = true;
    this.enqueue(ws, out, bytes);
  }

  /** Hands everything queued to its socket now (before a close, or when batching stops). */
  flush(): void {
    const queue = this.queue;
    const ws = this.queuedWs;
    if (queue.length === 0) return;
    this.queue = [];
    this.queuedBytes = 0;
    this.queuedWs = undefined;
    const open = ws !== undefined && ws.readyState === ws.OPEN;
    const socket = open ? socketOf(ws) : undefined;
    socket?.cork();
    for (const entry of queue) {
      if (entry instanceof StreamOutbox) {
        const frames = entry.frames;
        const bytes = entry.bytes;
        entry.frames = [];
        entry.bytes = 0;
        entry.queued = false;
        if (open) this.sendFrames(ws, entry.sid, frames, bytes);
      } else if (open) ws.send(entry, SEND_OPTIONS);
    }
    socket?.uncork();
  }

  private sendNow(ws: WebSocket, frame: Buffer): void {
    this.turn.cork(socketOf(ws));
    ws.send(frame, SEND_OPTIONS);
  }

  private enqueue(ws: WebSocket, entry: Buffer | StreamOutbox, bytes: number): void {
    // A queue for another socket (the tunnel reconnected within the turn: never in practice) goes out first.
    if (this.queue.length > 0 && this.queuedWs !== ws) this.flush();
    this.queuedWs = ws;
    this.queue.push(entry);
    this.queuedBytes += bytes;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.onTurnEnd);
  }

  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** One stream's frames of the turn: one message when they fit the terminator's limit, else as few as fit. */
  private sendFrames(ws: WebSocket, sid: number, frames: StreamFrameOut[], bytes: number): void {
    if (batchBytes(frames.length, bytes) <= this.maxMessageBytes) return this.sendGroup(ws, sid, frames, bytes);
    let group: StreamFrameOut[] = [];
    let groupBytes = 0;
    for (const f of frames) {
      const size = frameBytes(f);
      if (group.length > 0 && batchBytes(group.length + 1, groupBytes + size) > this.maxMessageBytes) {
        this.sendGroup(ws, sid, group, groupBytes);
        group = [];
        groupBytes = 0;
      }
      group.push(f);
      groupBytes += size;
    }
    this.sendGroup(ws, sid, group, groupBytes);
  }

  /** A lone frame as itself, else one Batch: either way one buffer, each frame written into it once. */
  private sendGroup(ws: WebSocket, sid: number, group: StreamFrameOut[], bytes: number): void {
    if (group.length === 1) return void ws.send(encodeFrameOut(group[0]!), SEND_OPTIONS);
    const out = Buffer.allocUnsafe(batchBytes(group.length, bytes));
    let off = writeBatchHeader(out, 0, sid);
    for (const f of group) {
      writeU32(out, off, frameBytes(f));
      off = writeFrameOut(out, off + BATCH_ENTRY_BYTES, f);
    }
    ws.send(out, SEND_OPTIONS);
  }
}
