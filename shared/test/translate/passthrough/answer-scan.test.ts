import t from 'tap';
import { scanAnswer } from '../../../src/translate/passthrough/answer-scan.js';
import { PassthroughWholeAnswer } from '../../../src/translate/passthrough/whole.js';
import { MAX_JSON_DEPTH } from '../../../src/codec/json-depth.js';

const usage = { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 };
const answer = { id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hé "q" \\ \n ☃' }, finish_reason: 'stop' }], usage };

/** JSON texts, valid or not, next to what the scan must say of them: JSON.parse decides which. */
const texts = [
  JSON.stringify(answer), ` \n\t${JSON.stringify(answer)}\r\n `, '{}', '{ }', '{"usage":null}', '{"usage":{"prompt_tokens":1}, "usage": {"prompt_tokens":2,"completion_tokens":3}}',
  '{"a":[1,-2,3.5,-0.25e+10,1E5,0,true,false,null,[],{},[[{}]]]}', '{"a":"\\u00e9\\"\\\\\\/\\b\\f\\n\\r\\t"}', '{"a":{"usage":{"prompt_tokens":9}}}',
  // Not JSON, or not an object.
  '', ' ', '[]', '"s"', '1', 'null', '{', '}', '{"a"}', '{"a":}', '{"a":1,}', '{,"a":1}', '{"a":1 "b":2}', '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":-}',
  '{"a":1e}', '{"a":+1}', '{"a":tru}', '{"a":truex}', '{"a":nul}', '{"a":"\\x"}', '{"a":"\\u12g4"}', '{"a":"\u0001"}', '{"a":"unterminated}', '{"a":[1,2}',
  '{"a":{"b":1]}', '{"a":1}}', '{"a":1} x', '{"a":1}{}', '\ufeff{}', "{'a':1}", '{"a":NaN}', '{"a":Infinity}', '{a:1}',
];

t.test('the scan takes and refuses what JSON.parse does, and finds the last top-level usage', async (t) => {
  for (const text of texts) {
    const buf = Buffer.from(text);
    let parsed: unknown;
    let ok = true;
    try {
      parsed = JSON.parse(text);
    } catch {
      ok = false;
    }
    const object = ok && typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    const scan = scanAnswer(buf);
    t.equal(scan.kind, object ? 'plain' : 'invalid', JSON.stringify(text));
    if (scan.kind !== 'plain') continue;
    const top = (parsed as Record<string, unknown>)['usage'];
    if (scan.usage === undefined) t.equal(top, undefined, `${JSON.stringify(text)}: no usage`);
    else t.same(JSON.parse(buf.toString('utf8', scan.usage.from, scan.usage.to)), top, `${JSON.stringify(text)}: its usage`);
  }
});

t.test('one scan leaves nothing for the next (the levels array is shared): the same answers after any other scan', async (t) => {
  const alone = texts.map((text) => JSON.stringify(scanAnswer(Buffer.from(text))));
  // Scans broken off at every depth and kind of level, arrays where objects were before and the other way round.
  const spoilers = [`{"a":${'['.repeat(MAX_JSON_DEPTH - 1)}`, `{"a":${'[{"b":'.repeat(40)}`, `{"a":${'{"b":['.repeat(40)}x`, '{"a":[1,2}'];
  for (const spoiler of spoilers) {
    texts.forEach((text, i) => {
      scanAnswer(Buffer.from(spoiler));
      t.equal(JSON.stringify(scanAnswer(Buffer.from(text))), alone[i], `${JSON.stringify(text)} after ${spoiler.slice(0, 12)}…`);
    });
  }
});

t.test('bytes that are not UTF-8 are taken inside strings (JSON.parse reads U+FFFD) and refused outside', async (t) => {
  t.equal(scanAnswer(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')])).kind, 'plain');
  t.equal(scanAnswer(Buffer.concat([Buffer.from('{"a":'), Buffer.from([0xff]), Buffer.from('}')])).kind, 'invalid');
});

t.test('what needs the parsed answer is left to JSON.parse: tool calls, escaped keys, deep nesting', async (t) => {
  t.equal(scanAnswer(Buffer.from('{"choices":[{"message":{"tool_calls":[]}}]}')).kind, 'parse');
  t.equal(scanAnswer(Buffer.from('{"us\\u0061ge":{"prompt_tokens":1}}')).kind, 'parse');
  t.equal(scanAnswer(Buffer.from(`{"a":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`)).kind, 'parse');
  t.equal(scanAnswer(Buffer.from(`{"a":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`)).kind, 'plain', 'up to the bound: scanned');
  t.equal(scanAnswer(Buffer.from('{"a":"tool_calls","b":"\\\\"}')).kind, 'plain', 'a tool_calls string value, an escape in a value: scanned');
});

t.test('a whole answer reads the same usage, scanned or parsed, and is passed on byte for byte', async (t) => {
  const cases: [string, { input_tokens: number; output_tokens: number } | undefined][] = [
    [JSON.stringify(answer), { input_tokens: 5, output_tokens: 6 }],
    ['{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2,"completion_tokens":3}}', { input_tokens: 2, output_tokens: 3 }],
    ['{"usage":{"prompt_tokens":-1,"completion_tokens":1.5}}', undefined],
    ['{"usage":{"completion_tokens":4}}', { input_tokens: 0, output_tokens: 4 }],
    ['{"us\\u0061ge":{"prompt_tokens":7,"completion_tokens":1}}', { input_tokens: 7, output_tokens: 1 }],
    ['{"usage":{"prompt_tokens":7,"completion_tokens":1}', undefined],
    ['[{"usage":{"prompt_tokens":7,"completion_tokens":1}}]', undefined],
  ];
  for (const [text, expected] of cases) {
    const whole = new PassthroughWholeAnswer(200, 'application/json');
    whole.push(Buffer.from(text.slice(0, 5)));
    whole.push(Buffer.from(text.slice(5)));
    t.equal(whole.end().toString(), text, `${text}: passed on as sent`);
    t.same(whole.usage(), expected, `${text}: usage`);
  }
});
