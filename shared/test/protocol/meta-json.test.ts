import t from 'tap';
import { endMeta, headMeta, type EndMeta, type HeadMeta } from '../../src/protocol/meta.js';
import { endMetaJson, headMetaJson, jsonText, jsonTextRecord } from '../../src/protocol/meta-json.js';

const strings = [
  '', 'plain', 'a"b', 'back\\slash', '/', '\u0000', '\u001f', ' ', '~', '\u007f', 'tab\there', 'nl\n', 'é', '☃', '𝄞', '\u2028', '\ud800', '\udc00x',
  ...Array.from({ length: 128 }, (_, c) => `x${String.fromCharCode(c)}y`),
];

t.test('jsonText is JSON.stringify of the string', async (t) => {
  // Named by their code points: a raw U+2028 in a test name would break the TAP line.
  for (const s of strings) t.equal(jsonText(s), JSON.stringify(s), [...s].map((c) => c.codePointAt(0)!.toString(16)).join(' '));
});

t.test('jsonTextRecord is JSON.stringify of the record, keys in the same order', async (t) => {
  t.equal(jsonTextRecord({}), '{}');
  const r: Record<string, string> = Object.fromEntries([...strings.map((s): [string, string] => [`k${s}`, s]), ['2', 'two'], ['10', 'ten'], ['b', 'b'], ['a', 'a']]);
  t.equal(jsonTextRecord(r), JSON.stringify(r), 'integer-like keys first, as JSON.stringify orders them');
});

t.test('endMetaJson is JSON.stringify of the End, every schema field covered', async (t) => {
  const samples: EndMeta[] = [
    { frames: 0 }, { frames: 12, usage: { input_tokens: 3, output_tokens: 2 ** 40 } }, { frames: 1, error: { code: 'upstream_error' } },
    { frames: 4_294_967_295, usage: { input_tokens: 0, output_tokens: 0 }, error: { code: 'odd "code"\n' } },
  ];
  t.same([...new Set(samples.flatMap((s) => Object.keys(s)))].sort(), Object.keys(endMeta.shape).sort(), 'the samples use every field');
  for (const e of samples) {
    t.equal(endMetaJson(e), JSON.stringify(e));
    t.ok(endMeta.safeParse(JSON.parse(endMetaJson(e))).success);
  }
});

t.test('headMetaJson is JSON.stringify of the Head, every schema field covered', async (t) => {
  const samples: HeadMeta[] = [
    { status: 200, contentType: 'application/json' }, { status: 599, contentType: 'text/event-stream; charset="utf-8"', ignored: [] },
    { status: 400, contentType: 'x/\u00e9\n', ignored: ['logit_bias', 'tools.web:search?'] },
  ];
  t.same([...new Set(samples.flatMap((s) => Object.keys(s)))].sort(), Object.keys(headMeta.shape).sort(), 'the samples use every field');
  for (const h of samples) {
    t.equal(headMetaJson(h), JSON.stringify(h));
    t.ok(headMeta.safeParse(JSON.parse(headMetaJson(h))).success);
  }
});
