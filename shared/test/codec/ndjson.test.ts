import t from 'tap';
import { CodecError, NdjsonDecoder, decodeNdjson } from '../../src/codec/index.js';
import { chunkings, utf8 } from './feed.js';

function decodeChunks(chunks: Array<Uint8Array | string>, max?: number): unknown[] {
  const out: unknown[] = [];
  const d = new NdjsonDecoder(max === undefined ? {} : { maxLineLength: max });
  const sink = (v: unknown): void => void out.push(v);
  for (const c of chunks) d.push(c, sink);
  d.end(sink);
  return out;
}

t.test('lines split every way, blank lines skipped, CRLF tolerated, UTF-8 reassembled', async (t) => {
  const input = '{"a":1}\n\n  \n{"b":"é🌍"}\r\n{"c":[1,2]}';
  for (const { name, chunks } of chunkings(input)) {
    t.strictSame(decodeChunks(chunks), [{ a: 1 }, { b: 'é🌍' }, { c: [1, 2] }], name);
  }
});

t.test('merged lines in one chunk', async (t) => {
  t.strictSame(decodeNdjson(utf8('{"x":1}\n{"x":2}\n{"x":3}\n')), [{ x: 1 }, { x: 2 }, { x: 3 }]);
});

t.test('invalid JSON is a typed CodecError, earlier values delivered first', async (t) => {
  const d = new NdjsonDecoder();
  const out: unknown[] = [];
  const err = t.throws(() => d.push('{"ok":true}\n{nope}\n{"never":1}\n', (v) => void out.push(v))) as unknown;
  t.ok(err instanceof CodecError);
  t.equal((err as CodecError).code, 'invalid_json');
  t.equal((err as CodecError).message, 'NDJSON line is not valid JSON');
  t.strictSame(out, [{ ok: true }]);
});

t.test('truncated last line fails at end()', async (t) => {
  const d = new NdjsonDecoder();
  d.push('{"a":', () => undefined);
  t.throws(() => d.end(() => undefined), { code: 'invalid_json' });
});

t.test('line length limit, also when the line arrives byte by byte', async (t) => {
  const input = '{"a":"0123456789"}\n';
  for (const { name, chunks } of chunkings(input)) {
    t.throws(() => decodeChunks(chunks, 10), { code: 'line_too_long', message: 'NDJSON line exceeds 10 characters' }, name);
  }
  t.strictSame(decodeChunks([input], 18), [{ a: '0123456789' }]);
});
