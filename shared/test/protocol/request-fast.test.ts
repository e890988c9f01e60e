import t, { type Test } from 'tap';
import { FrameKind } from '../../src/protocol/kinds.js';
import { decodeFrame, encodeWithJson, writeU32 } from '../../src/protocol/frame.js';
import { fabricRequestJson, tunnelRequestJson } from '../../src/protocol/meta-json.js';
import { encodeRequestMetaFrames } from '../../src/protocol/request-frames.js';
import type { RequestMeta } from '../../src/protocol/meta.js';
import { fastRequest, fastRequestFrame } from '../../src/protocol/request-fast.js';

/** A Request frame around `json` (metaBytes skipped: hostile samples may be any length). */
function frameOf(json: string, payload?: Uint8Array, kind: FrameKind = FrameKind.Request): Buffer {
  return encodeWithJson(kind, 0, json, Buffer.byteLength(json), payload);
}

/** What decodeFrame makes of a frame: the frame, or undefined when it refuses it. */
function slow(frame: Uint8Array): ReturnType<typeof decodeFrame> | undefined {
  try {
    return decodeFrame(frame);
  } catch {
    return undefined;
  }
}

/** `s` for a test's name: bytes outside printable ASCII as \uXXXX (a NUL in tap's output makes grep call it binary). */
function shown(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The fast reader's invariant: it declines, or returns exactly what decodeFrame returns (which then accepts it), and
 * tunnel metadata the connector reads as tunnelRequestJson's text of the same fields.
 */
function agrees(t: Test, frame: Uint8Array, named: string): boolean {
  const what = shown(named);
  const fast = fastRequest(frame);
  if (fast === undefined) {
    t.equal(fastRequestFrame(frame), undefined, `the frame-only reader declines too: ${what}`);
    return false;
  }
  t.same(fastRequestFrame(frame), fast.frame, `the frame-only reader reads the same frame: ${what}`);
  const s = slow(frame);
  t.ok(s !== undefined, `decodeFrame accepts what the fast path took: ${what}`);
  t.same(fast.frame, s, `same frame as decodeFrame: ${what}`);
  t.same(JSON.parse(fast.tunnelMeta.toString()), JSON.parse(tunnelRequestJson(fast.frame.meta)), `tunnel metadata: ${what}`);
  return true;
}

const base: RequestMeta = {
  rid: 'ing_0a1b2c3d4e5f_1z-1', requestId: 'req_abc', protocol: 'openai.chat', model: 'llama', stream: false, bodyLength: 123,
  deadline: 1_765_000_000_000, headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'a, b' }, ingressId: 'ing_0a1b2c3d4e5f',
  tenantId: 'ten_1', keyId: 'key_1', batches: true, pairHeartbeats: true,
};
const { requestId: _r, headers: _h, ingressId: _i, tenantId: _t, keyId: _k, batches: _b, pairHeartbeats: _p, ...bare } = base;
const valid: RequestMeta[] = [
  base, bare, { ...bare, headers: {} }, { ...base, batches: false, pairHeartbeats: false, stream: true },
  { ...bare, requestId: 'A1._:@+=/-x', model: '', bodyLength: 0, deadline: 1 }, { ...bare, model: 'x'.repeat(256), rid: 'r'.repeat(64) },
  { ...base, protocol: 'anthropic.count_tokens', requestId: 'q'.repeat(128), headers: { a: 'v'.repeat(1024), ['n'.repeat(64)]: '' } },
  { ...bare, keyId: 'key_2' }, { ...bare, tenantId: 'ten_2', pairHeartbeats: true }, { ...bare, bodyLength: 999_999_999_999_999 },
];

t.test('what the ingress writes is read from its bytes, as decodeFrame reads it, with the connector\'s metadata', async (t) => {
  for (const m of valid) {
    const json = fabricRequestJson(m);
    const f = frameOf(json, Buffer.from('{"messages":[]}'));
    t.ok(fastRequest(f), `fast: ${json.slice(0, 80)}`);
    t.ok(agrees(t, f, json.slice(0, 60)));
    // As nats.js hands it over: a Uint8Array view into a larger read buffer.
    const read = new Uint8Array(f.length + 10);
    read.set(f, 5);
    t.ok(agrees(t, read.subarray(5, 5 + f.length), `view: ${json.slice(0, 40)}`));
  }
  // The connector gets what it got before: the same fields decoded from the tunnel Request, body inline.
  const fast = fastRequest(frameOf(fabricRequestJson(base), Buffer.from('body')))!;
  const [req] = encodeRequestMetaFrames(3, fast.tunnelMeta, [Buffer.from('body')], 64 * 1024);
  const decoded = decodeFrame(req!);
  t.equal(decoded.kind, FrameKind.Request);
  t.same(decoded.meta, JSON.parse(tunnelRequestJson(base)));
  t.equal(decoded.payload.toString(), 'body');
  t.equal(fast.frame.payload.toString(), 'body');
  // The connector reads that tunnel Request from its bytes too, as decodeFrame does, for every valid Request.
  t.same(fastRequestFrame(req!), decoded, 'the tunnel Request, read from its bytes');
  for (const m of valid) {
    const f = fastRequest(frameOf(fabricRequestJson(m)))!;
    const [tunnel] = encodeRequestMetaFrames(7, f.tunnelMeta, [Buffer.from('{"x":1}')], 64 * 1024);
    t.same(fastRequestFrame(tunnel!), decodeFrame(tunnel!), `tunnel form: ${f.tunnelMeta.toString().slice(0, 60)}`);
    // What the terminator writes when its own fast path declined: tunnelRequestJson's text.
    const written = frameOf(tunnelRequestJson(m));
    const got = fastRequestFrame(written);
    if (got !== undefined) t.same(got, decodeFrame(written), `tunnelRequestJson form: ${m.rid}`);
  }
});

t.test('anything else is left to decodeFrame (which accepts it or refuses it)', async (t) => {
  const good = fabricRequestJson(base);
  const declined = [
    // Valid, but not the writer's form.
    JSON.stringify({ protocol: 'openai.chat', rid: 'r1', model: 'm', stream: false, bodyLength: 1, deadline: 5 }), good.replace('"rid":', ' "rid":'), good.replace('"llama"', '"ll\\u0061ma"'),
    good.replace('"llama"', '"лама"'), good.replace('"anthropic-version"', '"Anthropic-Version"'), good.replace('123', '123.0'), good.replace('123', '1.23e2'),
    good.replace('}', ',"extra":1}'), fabricRequestJson({ ...bare, bodyLength: 1_000_000_000_000_000 }),
    // Invalid: decodeFrame refuses them.
    good.replace('"ing_0a1b2c3d4e5f_1z-1"', '"a.b"'), good.replace('"ing_0a1b2c3d4e5f_1z-1"', '""'), good.replace('"ing_0a1b2c3d4e5f_1z-1"', `"${'r'.repeat(65)}"`),
    good.replace('openai.chat', 'openai.other'), good.replace('"llama"', `"${'x'.repeat(257)}"`), good.replace('false', 'nope'), good.replace('123', '-1'),
    good.replace('123', '0123'), good.replace('1765000000000', '0'), good.replace('"req_abc"', '"-x"'), good.replace('"req_abc"', `"${'q'.repeat(129)}"`),
    good.replace('"2023-06-01"', `"${'v'.repeat(1025)}"`), good.replace('"2023-06-01"', '1'), good.replace('"headers":{', '"headers":{"":"x",'),
    good.replace('"ten_1"', 'null'), good.replace('"batches":true', '"batches":1'), good.slice(0, -1), `${good}x`, good.replace('"deadline":1765000000000,', ''),
    '{"rid":"r"}', '{}', '', 'null', '[]', '{"rid":"r","protocol":"openai.chat","model":"m","stream":false,"bodyLength":1,"deadline":9007199254740993}',
    good.replace('"headers":{', '"headers":{"__proto__":"x",'), good.replace('"headers":{', '"headers":{"a":"b" ,'),
  ];
  for (const json of declined) t.equal(fastRequest(frameOf(json)), undefined, `declined: ${shown(json.slice(0, 90))}`);
  t.equal(fastRequest(frameOf(good, undefined, FrameKind.Body)), undefined, 'not a Request');
  t.equal(fastRequest(new Uint8Array(0)), undefined);
  const long = frameOf(good);
  writeU32(long, 5, long.length); // metadata said to run past the end
  t.equal(fastRequest(long), undefined);
  t.equal(slow(long), undefined);
});

t.test('hostile bytes: mutated, cut or grown Requests are declined or read exactly as decodeFrame reads them', async (t) => {
  let seed = 4242;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const alphabet = Buffer.from('{}[]",:0123456789-.eE _\\aefhilnrstudq\u0000\u007f\u00ff');
  const samples = valid.map((m) => frameOf(fabricRequestJson(m), Buffer.from('xy')));
  let fast = 0;
  for (let i = 0; i < 20_000; i++) {
    const from = samples[rand(samples.length)]!;
    const metaEnd = from.length - 2;
    let f = Buffer.from(from);
    const op = rand(4);
    const at = 9 + rand(metaEnd - 9);
    if (op === 0) f[at] = alphabet[rand(alphabet.length)]!;
    else if (op === 1) f = Buffer.concat([f.subarray(0, at), Buffer.from([alphabet[rand(alphabet.length)]!]), f.subarray(at)]);
    else if (op === 2) f = Buffer.concat([f.subarray(0, at), f.subarray(at + 1)]);
    const len = f.length - 2 - 9;
    // op 3: the header's metadata length off by a little either way (into the payload, or short of the closing `}`).
    writeU32(f, 5, op === 3 ? Math.max(0, len + rand(5) - 2) : len);
    if (agrees(t, f, f.toString('latin1', 9, 9 + 90))) fast++;
  }
  t.ok(fast > 0, 'some mutations still read fast (a digit or a letter of an id changed, say)');
});
