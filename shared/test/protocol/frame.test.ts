import t from 'tap';
import {
  FrameKind, HEADER_BYTES, MAX_META_BYTES, ProtocolError, chunkBytes, decodeFrame, encodeFrame, parseMeta, setFrameId,
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
  t.same(parseMeta(f as typeof f & { kind: typeof FrameKind.Head }), meta);
});

t.test('a data frame has no metadata and its id can be rewritten in place', async (t) => {
  const buf = encodeFrame(FrameKind.Data, 7, undefined, Buffer.from('abc'));
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

t.test('metadata is validated per kind', async (t) => {
  const bad = decodeFrame(encodeFrame(FrameKind.Head, 1, { status: 9999, contentType: 'x' }));
  t.throws(() => parseMeta(bad as typeof bad & { kind: typeof FrameKind.Head }), { name: 'ProtocolError', message: /status/ });
  const hello = decodeFrame(encodeFrame(FrameKind.Hello, 0, { connectorId: 'bad id with spaces', version: '1', upstreamKind: 'openai', models: [], maxConcurrency: 1, healthy: true, draining: false }));
  t.throws(() => parseMeta(hello as typeof hello & { kind: typeof FrameKind.Hello }), { message: /connectorId/ });
  const data = decodeFrame(encodeFrame(FrameKind.Data, 1, { unexpected: true }));
  t.throws(() => parseMeta(data as typeof data & { kind: typeof FrameKind.Data }), ProtocolError, 'Data frames carry no metadata');
});

t.test('oversized metadata is refused at encode time', async (t) => {
  t.throws(() => encodeFrame(FrameKind.GoAway, 0, { reason: 'x'.repeat(MAX_META_BYTES) }), ProtocolError);
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
  t.same(parseMeta(withParam as typeof withParam & { kind: typeof FrameKind.Error }), { code: 'unsupported_parameter', message: 'n: not supported', param: 'n' });
  const without = decodeFrame(encodeFrame(FrameKind.Error, 3, { code: 'internal', message: 'x' }));
  t.same(parseMeta(without as typeof without & { kind: typeof FrameKind.Error }), { code: 'internal', message: 'x' });
});
