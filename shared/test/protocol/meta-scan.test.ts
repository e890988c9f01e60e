import t from 'tap';
import { FrameKind } from '../../src/protocol/kinds.js';
import { validateMeta } from '../../src/protocol/meta.js';
import { scanMeta } from '../../src/protocol/meta-scan.js';
import { endMetaJson, headMetaJson } from '../../src/protocol/meta-json.js';
import { HEADER_BYTES, decodeFrame, encodeWithJson } from '../../src/protocol/frame.js';

type Scanned = typeof FrameKind.Ack | typeof FrameKind.Head | typeof FrameKind.End;

/** What the slow path makes of a metadata text: JSON.parse, then the kind's schema; 'refused' when either throws. */
function reference(kind: Scanned, text: string): unknown {
  try {
    return validateMeta(kind, JSON.parse(text));
  } catch {
    return 'refused';
  }
}

/** The metadata bytes as scanMeta sees them: inside a frame buffer, at HEADER_BYTES, with bytes after them. */
function scan(kind: Scanned, meta: Buffer): unknown {
  const buf = Buffer.concat([Buffer.alloc(HEADER_BYTES, 0x7b), meta, Buffer.from('}"x')]);
  return scanMeta(kind, buf, HEADER_BYTES, HEADER_BYTES + meta.length);
}

/** As written today: JSON.stringify's Ack (ack-frames.ts), meta-json.ts's Head and End. */
const written: [Scanned, string][] = [
  [FrameKind.Ack, JSON.stringify({ terminatorId: 'ter_1', connectorId: 'con_a-B' })],
  [FrameKind.Ack, JSON.stringify({ terminatorId: 'x'.repeat(64), connectorId: 'Z' })],
  [FrameKind.Head, headMetaJson({ status: 200, contentType: 'application/json' })],
  [FrameKind.Head, headMetaJson({ status: 599, contentType: '' })],
  [FrameKind.Head, headMetaJson({ status: 404, contentType: `text/event-stream; charset=utf-8 ${' !#$%&()*+,-./:;<=>?@[]^_`{|}~'}${'a'.repeat(150)}` })],
  [FrameKind.Head, headMetaJson({ status: 200, contentType: 'x'.repeat(256) })],
  [FrameKind.End, endMetaJson({ frames: 0 })],
  [FrameKind.End, endMetaJson({ frames: 1, usage: { input_tokens: 12, output_tokens: 34 } })],
  [FrameKind.End, endMetaJson({ frames: 999_999_999_999_999, usage: { input_tokens: 0, output_tokens: 100_000_000_000_000 } })],
];

/** Left to the slow path (accepted or refused there), never misread here. */
const hostile: [Scanned, string][] = [
  // other spellings of valid metadata
  [FrameKind.Ack, '{"connectorId":"c","terminatorId":"t"}'], [FrameKind.Ack, '{ "terminatorId":"t","connectorId":"c"}'],
  [FrameKind.Ack, '{"terminatorId":"\\u0074","connectorId":"c"}'], [FrameKind.Head, '{"status":200,"contentType":"application\\/json"}'],
  [FrameKind.Head, '{"status":2e2,"contentType":"a"}'], [FrameKind.Head, '{"status":200.0,"contentType":"a"}'],
  [FrameKind.Head, '{"status":200,"contentType":"a","ignored":["top_k"]}'], [FrameKind.End, '{"frames":1,"error":{"code":"upstream_error"}}'],
  [FrameKind.End, '{"frames":1 }'], [FrameKind.End, '{"frames":1,"usage":{"output_tokens":1,"input_tokens":2}}'],
  // wrong types, bounds, extra fields, duplicates
  [FrameKind.Ack, '{"terminatorId":1,"connectorId":"c"}'], [FrameKind.Ack, `{"terminatorId":"${'x'.repeat(65)}","connectorId":"c"}`],
  [FrameKind.Ack, '{"terminatorId":"","connectorId":"c"}'], [FrameKind.Ack, '{"terminatorId":"a.b","connectorId":"c"}'],
  [FrameKind.Ack, '{"terminatorId":"é","connectorId":"c"}'], [FrameKind.Ack, '{"terminatorId":"t","connectorId":"c","x":1}'],
  [FrameKind.Ack, '{"terminatorId":"t","connectorId":"c"}}'], [FrameKind.Ack, '{"terminatorId":"t","connectorId":"c"'],
  [FrameKind.Ack, '{"terminatorId":"t","connectorId":"c","connectorId":"d"}'], [FrameKind.Ack, '{"terminatorId":"t"}'],
  [FrameKind.Head, '{"status":199,"contentType":"a"}'], [FrameKind.Head, '{"status":600,"contentType":"a"}'],
  [FrameKind.Head, '{"status":0200,"contentType":"a"}'], [FrameKind.Head, '{"status":-200,"contentType":"a"}'],
  [FrameKind.Head, `{"status":200,"contentType":"${'a'.repeat(257)}"}`], [FrameKind.Head, '{"status":200,"contentType":"\u0001"}'],
  [FrameKind.Head, '{"status":200,"contentType":"é"}'], [FrameKind.Head, '{"status":200,"contentType":"a\u007f"}'],
  [FrameKind.Head, '{"status":200,"contentType":1}'], [FrameKind.Head, '{"status":"200","contentType":"a"}'],
  [FrameKind.End, '{"frames":-1}'], [FrameKind.End, '{"frames":01}'], [FrameKind.End, '{"frames":"1"}'], [FrameKind.End, '{"frames":1.5}'],
  [FrameKind.End, `{"frames":${2 ** 53}}`], [FrameKind.End, `{"frames":${'9'.repeat(16)}}`], [FrameKind.End, `{"frames":${'9'.repeat(400)}}`],
  [FrameKind.End, '{"frames":1,"usage":{"input_tokens":1}}'], [FrameKind.End, '{"frames":1,"usage":{"input_tokens":1,"output_tokens":-1}}'],
  [FrameKind.End, '{"frames":1,"usage":{"input_tokens":1,"output_tokens":1,"cached":1}}'], [FrameKind.End, '{"frames":1,"more":1}'],
  [FrameKind.End, '{"frames":}'], [FrameKind.End, '{"frames":1'], [FrameKind.End, ''], [FrameKind.End, 'null'], [FrameKind.End, '[]'],
];

t.test('the metadata as written is read from its bytes, as JSON.parse and the schema read it', async (t) => {
  for (const [kind, text] of written) {
    const got = scan(kind, Buffer.from(text, 'utf8'));
    t.not(got, undefined, `read: ${text.slice(0, 80)}`);
    t.strictSame(got, reference(kind, text), 'same value');
    t.strictSame(Object.keys(got as object), Object.keys(reference(kind, text) as object), 'same keys, same order');
  }
});

t.test('hostile or unusual metadata is never misread: left to the slow path', async (t) => {
  for (const [kind, text] of hostile) {
    const got = scan(kind, Buffer.from(text, 'utf8'));
    t.equal(got, undefined, `left: ${text.slice(0, 80)}`);
  }
});

t.test('every one-byte change, cut and insertion of the written texts: read only as the slow path reads it', async (t) => {
  const alphabet = [0x00, 0x09, 0x20, 0x22, 0x2c, 0x2d, 0x2e, 0x30, 0x31, 0x39, 0x3a, 0x41, 0x5c, 0x5f, 0x61, 0x65, 0x7b, 0x7d, 0x7f, 0xc3, 0xff];
  let read = 0;
  let checked = 0;
  for (const [kind, text] of written) {
    const orig = Buffer.from(text, 'utf8');
    const variants: Buffer[] = [];
    for (let i = 0; i <= orig.length; i++) {
      variants.push(orig.subarray(0, i));
      for (const b of alphabet) {
        variants.push(Buffer.concat([orig.subarray(0, i), Buffer.from([b]), orig.subarray(i)]));
        if (i < orig.length) {
          const v = Buffer.from(orig);
          v[i] = b;
          variants.push(v);
        }
      }
    }
    for (const v of variants) {
      const got = scan(kind, v);
      checked++;
      if (got === undefined) continue;
      read++;
      const want = reference(kind, v.toString('utf8'));
      if (want === 'refused' || JSON.stringify(got) !== JSON.stringify(want)) t.fail(`misread ${JSON.stringify(v.toString('latin1'))}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    }
  }
  t.ok(read > 0 && checked > read, `${checked} variants, ${read} read from bytes, all as the slow path reads them`);
});

t.test('decodeFrame gives the same frame either way, and still refuses what the schema refuses', async (t) => {
  for (const [kind, text] of [...written, ...hostile]) {
    const len = Buffer.byteLength(text, 'utf8');
    const frame = encodeWithJson(kind, 7, text, len, Buffer.from('payload'));
    const want = reference(kind, text);
    if (want === 'refused') t.throws(() => decodeFrame(frame), `refused: ${text.slice(0, 60)}`);
    else t.strictSame(decodeFrame(frame), { kind, id: 7, meta: want, payload: Buffer.from('payload') }, `decoded: ${text.slice(0, 60)}`);
  }
});

t.test('other kinds are not read here', async (t) => {
  t.equal(scanMeta(FrameKind.Request, Buffer.from('{"terminatorId":"t","connectorId":"c"}'), 0, 38), undefined);
  t.equal(scanMeta(FrameKind.Reject, Buffer.from('{"frames":1}'), 0, 12), undefined);
});

t.test('a repeated id is the string read before; a new one is read anew', async (t) => {
  const a = scan(FrameKind.Ack, Buffer.from('{"terminatorId":"ter_q","connectorId":"con_q"}')) as { terminatorId: string };
  const b = scan(FrameKind.Ack, Buffer.from('{"terminatorId":"ter_r","connectorId":"con_q"}')) as { terminatorId: string; connectorId: string };
  t.equal(a.terminatorId, 'ter_q');
  t.equal(b.terminatorId, 'ter_r');
  t.equal(b.connectorId, 'con_q');
});
