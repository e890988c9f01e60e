import t, { type Test } from 'tap';
import { CodecError, SseDecoder, decodeSse, formatSse, type SseEvent } from '../../src/codec/index.js';
import { chunkings, utf8 } from './feed.js';

function decodeChunks(chunks: Array<Uint8Array | string>, max?: number): SseEvent[] {
  const out: SseEvent[] = [];
  const d = new SseDecoder(max === undefined ? {} : { maxEventSize: max });
  const sink = (e: SseEvent): void => void out.push(e);
  for (const c of chunks) d.push(c, sink);
  d.end(sink);
  return out;
}

function everyChunking(t: Test, input: string, expected: SseEvent[]): void {
  for (const { name, chunks } of chunkings(input)) t.strictSame(decodeChunks(chunks), expected, name);
}

t.test('LF, CRLF and CR line endings, split every way', async (t) => {
  const expected = [
    { event: 'message', data: 'one' },
    { event: 'message', data: 'two' },
  ];
  everyChunking(t, 'data: one\n\ndata: two\n\n', expected);
  everyChunking(t, 'data: one\r\n\r\ndata: two\r\n\r\n', expected);
  everyChunking(t, 'data: one\r\rdata: two\r\r', expected);
  everyChunking(t, 'data: one\r\n\ndata: two\n\r\n', expected);
});

t.test('comments, event names, ids, multi-line data, no space after colon', async (t) => {
  const input = ': keep-alive\nevent: message_start\nid: 7\ndata: {"a":\ndata:1}\n\n:x\n\ndata\n\nevent: ping\ndata: \n\n';
  everyChunking(t, input, [
    { event: 'message_start', data: '{"a":\n1}', id: '7' },
    { event: 'message', data: '', id: '7' },
    { event: 'ping', data: '', id: '7' },
  ]);
});

t.test('an event with no data is not dispatched; event name resets per event', async (t) => {
  everyChunking(t, 'event: a\n\ndata: x\n\n', [{ event: 'message', data: 'x' }]);
});

t.test('unknown fields and retry are ignored; leading single space only stripped once', async (t) => {
  everyChunking(t, 'retry: 10\nfoo: bar\ndata:  two spaces\n\n', [{ event: 'message', data: ' two spaces' }]);
});

t.test('multi-byte UTF-8 split across chunks', async (t) => {
  everyChunking(t, 'data: héllo 🌍 世界\n\n', [{ event: 'message', data: 'héllo 🌍 世界' }]);
});

t.test('merged events in one chunk and [DONE]', async (t) => {
  const s = 'data: {"x":1}\n\ndata: {"x":2}\n\ndata: [DONE]\n\n';
  t.strictSame(decodeSse(utf8(s)), [
    { event: 'message', data: '{"x":1}' },
    { event: 'message', data: '{"x":2}' },
    { event: 'message', data: '[DONE]' },
  ]);
});

t.test('end() flushes a last event without the final blank line', async (t) => {
  everyChunking(t, 'data: a\n\ndata: [DONE]', [
    { event: 'message', data: 'a' },
    { event: 'message', data: '[DONE]' },
  ]);
  everyChunking(t, 'data: a\n\ndata: [DONE]\n', [
    { event: 'message', data: 'a' },
    { event: 'message', data: '[DONE]' },
  ]);
});

t.test('events before an oversized one are delivered, then a CodecError', async (t) => {
  const d = new SseDecoder({ maxEventSize: 16 });
  const out: SseEvent[] = [];
  const sink = (e: SseEvent): void => void out.push(e);
  const err = t.throws(() => d.push('data: ok\n\ndata: 0123456789abcdefXYZ', sink)) as unknown;
  t.ok(err instanceof CodecError);
  t.equal((err as CodecError).code, 'event_too_large');
  t.equal((err as CodecError).message, 'SSE event exceeds 16 characters');
  t.strictSame(out, [{ event: 'message', data: 'ok' }]);
});

t.test('size limit counts data gathered over many lines, byte by byte too', async (t) => {
  const input = 'data: 01234\ndata: 56789\ndata: abcde\n\n';
  for (const { name, chunks } of chunkings(input)) {
    t.throws(() => decodeChunks(chunks, 12), { code: 'event_too_large' }, name);
  }
  t.strictSame(decodeChunks([input], 100), [{ event: 'message', data: '01234\n56789\nabcde' }]);
});

t.test('formatSse', async (t) => {
  t.equal(formatSse('{"a":1}'), 'data: {"a":1}\n\n');
  t.equal(formatSse('{"a":1}', 'ping'), 'event: ping\ndata: {"a":1}\n\n');
  t.equal(formatSse('a\nb\r\nc'), 'data: a\ndata: b\ndata: c\n\n');
  t.strictSame(decodeSse(formatSse('a\nb', 'x')), [{ event: 'x', data: 'a\nb' }]);
});
