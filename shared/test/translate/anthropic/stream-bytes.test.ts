import t from 'tap';
import { anthropicCaller } from '../../../src/translate/caller/anthropic/index.js';
import { typedSse } from '../../../src/translate/caller/typed-sse.js';
import type { ChatEvent } from '../../../src/translate/pivot.js';

// The encoder writes content_block_delta events from a prefix and the piece's JSON string: the bytes must stay
// exactly those of the generic writer (typedSse of the same object), whatever the piece holds.
const PIECES = ['tok1 ', 'a"b\\c', 'line\nbreak\r\nand\rcr', '\u2028\u2029', 'tab\tnul\u0000esc\u001b', 'é漢字🙂', '\ud800 lone \udc00', '</script>', '{"x":[1,2]}'];

t.test('content_block_delta bytes equal the generic SSE writer for every kind of piece and block index', async (t) => {
  const events: ChatEvent[] = [{ type: 'start', id: 'x', model: 'm', created: 1 }];
  const expected: object[] = [];
  let index = -1;
  for (const p of PIECES) {
    events.push({ type: 'reasoning', text: `think ${p}` }, { type: 'text', text: p });
    expected.push({ type: 'content_block_delta', index: ++index, delta: { type: 'thinking_delta', thinking: `think ${p}` } });
    expected.push({ type: 'content_block_delta', index: ++index, delta: { type: 'text_delta', text: p } });
  }
  // Two pieces in the same block keep its index.
  events.push({ type: 'text', text: 'more' });
  expected.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: 'more' } });
  for (const [i, p] of PIECES.entries()) {
    events.push({ type: 'tool_call', index: i, id: `call_${i}`, name: 'f' }, { type: 'tool_args', index: i, delta: p });
    expected.push({ type: 'content_block_delta', index: ++index, delta: { type: 'input_json_delta', partial_json: p } });
  }
  const enc = anthropicCaller.createStreamEncoder({ model: 'm', requestId: 'r1' });
  const out = events.map((e) => enc.push(e)).join('') + enc.end();
  const deltas = out.split(/(?=event: )/).filter((e) => e.startsWith('event: content_block_delta\n'));
  t.same(deltas, expected.map((e) => typedSse(e as { type: string })));
});
