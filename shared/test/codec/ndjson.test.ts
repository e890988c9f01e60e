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

t.test('decoded text is the same whatever UTF-8 decoder a chunk takes (BOM, invalid bytes, sequences cut anywhere)', async (t) => {
  // Chunks ending in an ASCII byte after the start of the stream may be decoded on their own (a faster decoder);
  // the values must equal those of one TextDecoder over the whole input, for every way of cutting it.
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const odd = [0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xbb, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x41, 0x7e];
  let checked = 0;
  for (let round = 0; round < 300; round++) {
    const parts: number[] = round % 3 === 0 ? [0xef, 0xbb, 0xbf] : [];
    for (let line = 0; line < 4; line++) {
      parts.push(...Buffer.from('{"s":"'));
      for (let i = rnd(12); i > 0; i--) parts.push(rnd(2) ? odd[rnd(odd.length)]! : 0x61 + rnd(26));
      parts.push(...Buffer.from('é🌍"}\n'));
    }
    const bytes = Uint8Array.from(parts);
    const text = new TextDecoder('utf-8').decode(bytes);
    const expected = text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as unknown);
    for (let cuts = 0; cuts < 5; cuts++) {
      const chunks: Uint8Array[] = [];
      let at = 0;
      while (at < bytes.length) {
        const n = 1 + rnd(cuts === 0 ? 3 : 40);
        // Plain Uint8Array and Buffer chunks both.
        const piece = bytes.subarray(at, at + n);
        chunks.push(rnd(2) ? piece : Buffer.from(piece));
        at += n;
      }
      const got = decodeChunks(chunks);
      if (JSON.stringify(got) !== JSON.stringify(expected)) t.strictSame(got, expected, `round ${round}, cut ${cuts}`);
      checked++;
    }
  }
  t.equal(checked, 1500);
});
