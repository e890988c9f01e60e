import t from 'tap';
import {
  FrameKind, HEADER_BYTES, MAX_META_BYTES, MIN_TUNNEL_FRAME_BYTES, ProtocolError, chunkBytes, dataFrameId, dataPayload, decodeFrame,
  encodeBatch, lastFrameKind, splitBatch, splitTunnelBatch, encodeBodyFrames, encodeDataFrame, encodeFrame, encodeRequestFrames, encodeWithMeta, setFrameId, type Frame, type RequestMeta,
} from '../../src/protocol/index.js';

t.test('encode/decode round trip keeps kind, id, meta and payload', async (t) => {
  const meta = { status: 200, contentType: 'text/event-stream' };
  const payload = Buffer.from('data: hi\n\n');
  const buf = encodeFrame(FrameKind.Head, 0xfffffffe, meta, payload);
  t.equal(buf.length, HEADER_BYTES + Buffer.byteLength(JSON.stringify(meta)) + payload.length);
  const f = decodeFrame(buf);
  t.equal(f.kind, FrameKind.Head);
  t.equal(f.id, 0xfffffffe);
  t.same(f.meta, meta);
  t.equal(f.payload.toString(), 'data: hi\n\n');
});

t.test('the decoded union narrows metadata by kind', async (t) => {
  const describe = (f: Frame): string => {
    switch (f.kind) {
      case FrameKind.Head:
        return `head ${f.meta.status}`;
      case FrameKind.End:
        return `end after ${f.meta.frames}`;
      case FrameKind.Reject:
        return `reject ${f.meta.reason}`;
      default:
        return 'other';
    }
  };
  t.equal(describe(decodeFrame(encodeFrame(FrameKind.Head, 1, { status: 201, contentType: 'x' }))), 'head 201');
  t.equal(describe(decodeFrame(encodeFrame(FrameKind.End, 1, { frames: 3 }))), 'end after 3');
  t.equal(describe(decodeFrame(encodeFrame(FrameKind.Reject, 1, { reason: 'busy', message: 'full' }))), 'reject busy');
  t.equal(describe(decodeFrame(encodeFrame(FrameKind.Ping, 1))), 'other');
});

t.test('a data frame has no metadata and its id can be rewritten in place', async (t) => {
  const buf = encodeFrame(FrameKind.Data, 7, undefined, Buffer.from('abc'));
  setFrameId(buf, 0x89abcdef);
  t.equal(decodeFrame(buf).id, 0x89abcdef, 'every byte of the id');
  setFrameId(buf, 42);
  const f = decodeFrame(buf);
  t.equal(f.id, 42);
  t.equal(f.meta, undefined);
  t.equal(f.payload.toString(), 'abc');
  // works on a view into a larger buffer, too
  const big = Buffer.concat([Buffer.from('xx'), buf]);
  const view = big.subarray(2);
  setFrameId(view, 9);
  t.equal(decodeFrame(view).id, 9);
});

t.test('hostile input is rejected with ProtocolError, never a crash', async (t) => {
  const cases: [string, Uint8Array][] = [
    ['empty', Buffer.alloc(0)],
    ['short header', Buffer.from([FrameKind.Data, 0, 0])],
    ['unknown kind', Buffer.from([200, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['meta length past the end', Buffer.from([FrameKind.Head, 0, 0, 0, 1, 0, 0, 0, 50, 0x7b])],
    ['meta length over the limit', (() => { const b = Buffer.alloc(HEADER_BYTES); b[0] = FrameKind.Head; b.writeUInt32BE(MAX_META_BYTES + 1, 5); return b; })()],
    ['meta not JSON', (() => { const m = Buffer.from('{nope'); const b = Buffer.alloc(HEADER_BYTES + m.length); b[0] = FrameKind.Head; b.writeUInt32BE(m.length, 5); m.copy(b, HEADER_BYTES); return b; })()],
  ];
  for (const [name, input] of cases) t.throws(() => decodeFrame(input), ProtocolError, name);
});

t.test('metadata is validated per kind at decode time', async (t) => {
  const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
  t.throws(() => decodeFrame(encodeWithMeta(FrameKind.Head, 1, json({ status: 9999, contentType: 'x' }))), { name: 'ProtocolError', message: /Head metadata at status/ });
  const hello = { connectorId: 'bad id with spaces', version: '1', upstreamKind: 'openai', models: [], maxConcurrency: 1, healthy: true, draining: false };
  t.throws(() => decodeFrame(encodeWithMeta(FrameKind.Hello, 0, json(hello))), { message: /connectorId/ });
  t.throws(() => decodeFrame(encodeWithMeta(FrameKind.Hello, 0, json({ ...hello, connectorId: 'c1', maxFrameBytes: 1000 }))), { message: /maxFrameBytes/ }, 'a frame limit below the floor');
  t.throws(() => decodeFrame(encodeWithMeta(FrameKind.Data, 1, json({ unexpected: true }))), ProtocolError, 'Data frames carry no metadata');
  t.throws(() => decodeFrame(encodeWithMeta(FrameKind.Request, 1, undefined)), ProtocolError, 'a Request without metadata');
});

t.test('Data frames are read by their header alone', async (t) => {
  const frame = encodeDataFrame(5, [Buffer.from('ab'), Buffer.from('cd')]);
  t.equal(dataFrameId(frame), 5);
  t.equal(dataPayload(frame).toString(), 'abcd');
  t.throws(() => dataFrameId(frame.subarray(0, HEADER_BYTES - 1)), ProtocolError, 'short');
  t.throws(() => dataFrameId(encodeWithMeta(FrameKind.Data, 5, Buffer.from('{}'))), ProtocolError, 'with metadata');
});

t.test('a Request and its body split into frames that fit the receiver', async (t) => {
  const meta: RequestMeta = { rid: 'r1', protocol: 'openai.chat', model: 'm', stream: false, bodyLength: 0, deadline: Date.now() + 1000 };
  const limit = MIN_TUNNEL_FRAME_BYTES;
  const check = (body: Buffer[], label: string): void => {
    const total = Buffer.concat(body);
    const frames = encodeRequestFrames(7, { ...meta, bodyLength: total.length }, body, limit);
    t.ok(frames.every((f) => f.length <= limit), `${label}: every frame fits`);
    const decoded = frames.map((f) => decodeFrame(f));
    t.equal(decoded[0]?.kind, FrameKind.Request, `${label}: Request first`);
    t.ok(decoded.slice(1).every((f) => f.kind === FrameKind.Body && f.payload.length > 0), `${label}: then non-empty Body frames`);
    t.ok(decoded.every((f) => f.id === 7), `${label}: one stream id`);
    t.ok(Buffer.concat(decoded.map((f) => f.payload)).equals(total), `${label}: the body, in order`);
  };
  const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
  check([], 'no body');
  check([bytes(10, 1)], 'small');
  check([bytes(limit, 2)], 'one part just over a frame');
  check([bytes(5 * limit + 17, 3)], 'one large part');
  check([Buffer.alloc(0), bytes(3 * limit, 4), bytes(100, 5), bytes(2 * limit, 6)], 'parts of mixed sizes');
  t.equal(encodeRequestFrames(1, meta, [bytes(10, 1)], limit).length, 1, 'a body that fits stays inline');
  t.same(encodeBodyFrames(1, Buffer.alloc(0), limit), [], 'an empty part is no frame');
});

t.test('oversized metadata is refused at encode time', async (t) => {
  t.throws(() => encodeFrame(FrameKind.GoAway, 0, { reason: 'x'.repeat(MAX_META_BYTES) }), ProtocolError);
  // The limit is in UTF-8 bytes, not characters: 'é' is two bytes.
  const wide = { rid: 'r1', protocol: 'openai.chat', model: 'é'.repeat(MAX_META_BYTES / 2), stream: false, bodyLength: 0, deadline: 1 } as const;
  t.throws(() => encodeRequestFrames(1, wide, [], MIN_TUNNEL_FRAME_BYTES), { name: 'ProtocolError', message: /over/ }, 'bytes, not characters');
});

t.test('metadata outside ASCII is written in place at its UTF-8 length', async (t) => {
  const head = { status: 200, contentType: 'text/plain; note=héllo ☃ 𝄞' };
  const f = decodeFrame(encodeFrame(FrameKind.Head, 3, head, Buffer.from('after')));
  t.same(f.meta, head);
  t.equal(f.payload.toString(), 'after', 'the payload starts right after the metadata');
  const meta: RequestMeta = { rid: 'r2', protocol: 'openai.chat', model: 'modèle-☃', stream: false, bodyLength: 4, deadline: 1 };
  const [req] = encodeRequestFrames(9, meta, [Buffer.from('body')], MIN_TUNNEL_FRAME_BYTES).map((b) => decodeFrame(b));
  t.same(req?.meta, meta);
  t.equal(req?.payload.toString(), 'body');
});

t.test('chunkBytes splits without copying and covers every byte', async (t) => {
  const buf = Buffer.from('abcdefghij');
  const parts = [...chunkBytes(buf, 4)].map((p) => Buffer.from(p).toString());
  t.same(parts, ['abcd', 'efgh', 'ij']);
  t.same([...chunkBytes(Buffer.alloc(0), 4)], []);
  t.throws(() => [...chunkBytes(buf, 0)], RangeError);
});

t.test('Error frames may name the request parameter at fault; old frames without it still parse', async (t) => {
  const withParam = decodeFrame(encodeFrame(FrameKind.Error, 3, { code: 'unsupported_parameter', message: 'n: not supported', param: 'n' }));
  t.same(withParam.meta, { code: 'unsupported_parameter', message: 'n: not supported', param: 'n' });
  const without = decodeFrame(encodeFrame(FrameKind.Error, 3, { code: 'internal', message: 'x' }));
  t.same(without.meta, { code: 'internal', message: 'x' });
});

t.test('a Batch carries frames unchanged; malformed batches are refused', async (t) => {
  const frames = [
    encodeFrame(FrameKind.Ack, 0, { terminatorId: 'trm_1', connectorId: 'con_1' }),
    encodeFrame(FrameKind.Data, 3, undefined, Buffer.from('abc')),
    encodeFrame(FrameKind.End, 0, { frames: 4 }),
  ];
  const batch = encodeBatch(frames);
  t.equal(batch[0], FrameKind.Batch);
  const out = splitBatch(batch);
  t.equal(out.length, 3);
  out.forEach((f, i) => t.ok(f.equals(frames[i]!), `frame ${i} byte for byte`));
  t.equal(decodeFrame(out[1]!).id, 3);
  t.equal(lastFrameKind(batch), FrameKind.End, 'the last frame of a batch');
  t.equal(lastFrameKind(frames[1]!), FrameKind.Data, 'a plain frame');
  t.equal(lastFrameKind(batch.subarray(0, batch.length - 1)), -1, 'a malformed batch');

  t.throws(() => splitBatch(batch.subarray(0, batch.length - 1)), ProtocolError, 'an entry past the end');
  t.throws(() => splitBatch(batch.subarray(0, HEADER_BYTES + 2)), ProtocolError, 'a cut length');
  t.throws(() => splitBatch(encodeBatch([])), /empty/, 'an empty batch');
  t.throws(() => splitBatch(encodeBatch([Buffer.alloc(3)])), /shorter than a frame header/);
  t.throws(() => splitBatch(encodeBatch([batch, frames[0]!])), /do not nest/);
  const withMeta = Buffer.from(batch);
  withMeta.writeUInt32BE(1, 5);
  t.throws(() => splitBatch(withMeta), /no metadata/);
  t.throws(() => splitBatch(frames[0]!), /not a Batch/);
});

t.test('a tunnel Batch: frames of its own stream, answer kinds only, refused whole otherwise', async (t) => {
  const frames = [
    encodeFrame(FrameKind.Head, 7, { status: 200, contentType: 'application/json' }),
    encodeFrame(FrameKind.Data, 7, undefined, Buffer.from('{}')),
    encodeFrame(FrameKind.End, 7, { frames: 1 }),
  ];
  const batch = encodeBatch(frames, undefined, 7);
  t.equal(decodeFrame(batch).id, 7, 'the batch carries the stream id');
  const out = splitTunnelBatch(batch);
  out.forEach((f, i) => t.ok(f.equals(frames[i]!), `frame ${i} byte for byte`));
  t.throws(() => splitTunnelBatch(encodeBatch(frames, undefined, 8)), /of stream 7/, 'frames of another stream than the batch');
  t.throws(() => splitTunnelBatch(encodeBatch([frames[0]!, encodeFrame(FrameKind.Data, 9, undefined, Buffer.from('x'))], undefined, 7)), /of stream 9/, 'a frame of another stream');
  t.throws(() => splitTunnelBatch(encodeBatch([frames[0]!, encodeFrame(FrameKind.Ping, 7)], undefined, 7)), /answer frames only/, 'a tunnel-session frame');
  const unknown = Buffer.from(frames[1]!);
  unknown[0] = 99;
  t.throws(() => splitTunnelBatch(encodeBatch([frames[0]!, unknown], undefined, 7)), /answer frames only/, 'an unknown kind');
  t.throws(() => splitTunnelBatch(encodeBatch([batch, frames[0]!], undefined, 7)), /do not nest/, 'a nested batch');
  t.throws(() => splitTunnelBatch(batch.subarray(0, batch.length - 2)), /past the end/, 'a truncated entry');
});
