import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { OllamaStreamDecoder } from '../../../src/translate/upstream/ollama/index.js';
import { decodeAll, fixedOptions } from '../support.js';

// Content lines of Ollama's exact shape skip JSON.parse (a regular expression reads them). Differential check:
// every line must give the same events as the same JSON with a trailing space, which the shortcut never takes.
const FIRST = '{"model":"m","created_at":"2024-05-01T10:00:00.123Z","message":{"role":"assistant","content":"Hi"},"done":false}';
const DONE = '{"model":"m","created_at":"2024-05-01T10:00:01Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"prompt_eval_count":3,"eval_count":4}';
const body = (content: string, model = 'llama3.1:8b', at = '2024-05-01T10:00:00.123456789Z') =>
  `{"model":"${model}","created_at":"${at}","message":{"role":"assistant","content":${content}},"done":false}`;

const LINES = [
  body('"tok1 "'),
  body('""'),
  body('"é漢字🙂\u2028"'),
  body(JSON.stringify('quote " backslash \\ newline \n tab \t nul \u0000 <&> \u00e9')),
  body('"\\u003cb\\u003e \\ud83d\\ude00 \\ud800"'),
  body('"\\/ \\b\\f\\n\\r\\t"'),
  body('"bad escape \\x41"'),
  body('"bad unicode \\u12"'),
  body('"ends in backslash \\"'),
  body('"raw\ttab"'),
  body('"two" "strings"'),
  body('"a","x":"b"'),
  body('1'),
  body('null'),
  body('"ok"', 'we"ird'),
  body('"ok"', 'esc\\u0041ped'),
  body('"ok"', 'llama', 'bad\u0001time'),
  '{"model":"m","created_at":"x","message":{"role":"assistant","content":"hi","thinking":"hm"},"done":false}',
  '{"model":"m","created_at":"x","message":{"role":"assistant","content":"hi"},"done":false,"error":"boom"}',
  '{"model":"m","created_at":"x","message":{"role":"user","content":"hi"},"done":false}',
  '{"model":"m","created_at":"x","message":{"role":"assistant","content":"hi"},"done":true}',
  '{"model":"m","created_at":"x","message":{"role":"assistant","content":"hi"},"done":false}}',
  '{"model":"m","created_at":"x","message":{"role":"assistant","content":"hi"},"done":false',
];

t.test('content lines: the shortcut gives exactly the events of the full parse', async (t) => {
  for (const [i, line] of LINES.entries()) {
    for (const after of [[DONE], []]) {
      const fast = decodeAll(new OllamaStreamDecoder(fixedOptions()), [[FIRST, line, ...after].join('\n') + '\n']);
      const full = decodeAll(new OllamaStreamDecoder(fixedOptions()), [[FIRST, `${line} `, ...after].join('\n') + '\n']);
      // (tap's report breaks on a raw U+2028: compare here, show the values only on failure)
      const name = `line ${i}${after.length > 0 ? '' : ', stream cut after it'}`;
      if (isDeepStrictEqual(fast, full)) t.pass(name);
      else t.strictSame(fast, full, name);
    }
  }
});

t.test('the shortcut also works split across chunks and on the very first line after start', async (t) => {
  const text = [FIRST, body('"a"'), body('"b\\nc"'), DONE].join('\n') + '\n';
  const bytes = Buffer.from(text);
  for (let cut = 1; cut < bytes.length; cut += 7) {
    const got = decodeAll(new OllamaStreamDecoder(fixedOptions()), [bytes.subarray(0, cut), bytes.subarray(cut)]);
    t.strictSame(got.filter((e) => e.type === 'text'), [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'a' }, { type: 'text', text: 'b\nc' }], `cut at ${cut}`);
  }
});
