/**
 * Golden vectors for the OpenAI Chat passthrough line filter, for every chunking of the upstream bytes: in-stream
 * errors rewritten (found end to end: a vLLM `{"object":"error"}` event reached the openai SDK as a chunk without
 * `choices`, so the caller's loop crashed instead of the SDK raising the error), usage read, and stripped again
 * when only the gateway asked for it.
 */
import t from 'tap';
import type { AnswerTranslator } from '../../../src/translate/index.js';
import { PassthroughStreamFilter, type PassthroughStreamOptions } from '../../../src/translate/passthrough/stream-filter.js';
import { DONE, chunk, golden, usageChunk } from './support.js';

function filter(options: PassthroughStreamOptions): () => AnswerTranslator {
  return () => {
    const f = new PassthroughStreamFilter(options);
    return { headFirst: true, contentType: 'text/event-stream', status: () => 200, push: (c) => f.push(c), end: () => f.end(), fail: () => '', usage: () => f.usage };
  };
}
const keep = filter({ strip: false, toolFinish: true });
const strip = filter({ strip: true, toolFinish: true });
const content = (text: string) => `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]}\n\n`;

t.test('ordinary chunks pass byte for byte, including content that mentions "error" and "usage"', async (t) => {
  const input = content('no') + content('"error" is just a word') + content('error') + content('usage') + content('the "usage":null, field {"usage":null,') + DONE;
  golden(t, keep, input, input);
  golden(t, strip, input, input);
});

t.test('complete lines go out at once; a partial line waits for its newline or the end', async (t) => {
  const f = new PassthroughStreamFilter({ strip: false, toolFinish: true });
  t.equal(f.push(Buffer.from('data: {"a":1}\n\nda')).toString(), 'data: {"a":1}\n\n');
  t.equal(f.push(Buffer.from('ta: [DONE]')).toString(), '');
  t.equal(f.end().toString(), 'data: [DONE]');
  const raw = Buffer.from('data: {"a":1}\n\n');
  t.equal(new PassthroughStreamFilter({ strip: false, toolFinish: true }).push(raw), raw, 'a chunk of whole lines is the very same buffer');
});

t.test('an overlong line is let through as it is, up to its newline', async (t) => {
  const f = new PassthroughStreamFilter({ strip: true, toolFinish: true });
  const long = 'x'.repeat(1024 * 1024 + 1);
  t.equal(f.push(Buffer.from(`data: ${long}`)).length, 6 + long.length);
  t.equal(f.push(Buffer.from(',"usage":null}\n\ndata: {"a":1,"usage":null}\n\n')).toString(), ',"usage":null}\n\ndata: {"a":1}\n\n', 'the rest of that line untouched; the next one filtered');
});

t.test("vLLM's in-stream {object:error} becomes OpenAI's {error:{…}}", async (t) => {
  const input = content('par') + 'data: {"object":"error","message":"CUDA out of\\nmemory","type":"InternalServerError","param":null,"code":500}\n\n';
  const expected = content('par') + 'data: {"error":{"message":"The model server failed: CUDA out of memory","type":"server_error","param":null,"code":"upstream_error"}}\n\n';
  golden(t, keep, input, expected);
  golden(t, strip, input, expected);
});

t.test("an upstream {error:{…}} is put in Tokios' wording too; CRLF line ends are kept", async (t) => {
  golden(
    t,
    keep,
    'data: {"error":{"message":"boom","type":"x"}}\r\n\r\n',
    'data: {"error":{"message":"The model server failed: boom","type":"server_error","param":null,"code":"upstream_error"}}\r\n\r\n',
  );
});

t.test('caller asked for usage: bytes untouched, the last usage wins', async (t) => {
  const input = chunk({ content: 'x' }, null, { usage: null }) + chunk({}, 'stop', { usage: null }) + usageChunk(11, 3) + DONE;
  golden(t, keep, input, input, { input_tokens: 11, output_tokens: 3 });
});

t.test('usage on every chunk (growing counts): read, never summed', async (t) => {
  const u = (p: number, c: number) => ({ usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c } });
  const input = chunk({ content: 'a' }, null, u(9, 1)) + chunk({ content: 'b' }, null, u(9, 2)) + chunk({}, 'stop', u(9, 3)) + DONE;
  golden(t, keep, input, input, { input_tokens: 9, output_tokens: 3 });
});

t.test('strip: the caller gets the stream without usage, as if it had not been asked for', async (t) => {
  const input = chunk({ role: 'assistant', content: '' }, null, { usage: null }) + chunk({ content: 'héllo' }, null, { usage: null }) + chunk({}, 'stop', { usage: null }) + usageChunk(11, 3) + DONE;
  const expected = chunk({ role: 'assistant', content: '' }) + chunk({ content: 'héllo' }) + chunk({}, 'stop') + DONE;
  golden(t, strip, input, expected, { input_tokens: 11, output_tokens: 3 });
});

t.test('strip keeps usage carried on a content chunk but removes it from that chunk; CRLF and spaced JSON', async (t) => {
  const input =
    'data: {"id":"a","choices":[{"delta":{"content":"x"}}], "usage" : null}\r\n\r\n' +
    'data: {"usage": null, "id":"b","choices":[]}\n\n' +
    'data: {"id":"c","choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1}}\n\n';
  const expected = 'data: {"id":"a","choices":[{"delta":{"content":"x"}}]}\r\n\r\n' + 'data: {"id":"b","choices":[]}\n\n' + 'data: {"id":"c","choices":[{"delta":{},"finish_reason":"stop"}]}\n\n';
  golden(t, strip, input, expected, { input_tokens: 2, output_tokens: 1 });
});

t.test('strip: text that mentions usage and spaced members come out the same as unasked-for streams', async (t) => {
  const spaced = (delta: Record<string, unknown>) => chunk(delta).replace(/\}\n\n$/, ', "usage": null}\n\n');
  const quoted = { content: 'the "usage" field and ,"usage":null} as text' };
  const input = chunk(quoted, null, { usage: null }) + spaced({ content: 'x' }) + chunk({ content: '"usage"' }, null, { usage: null }) + usageChunk(11, 3) + DONE;
  const expected = chunk(quoted) + chunk({ content: 'x' }) + chunk({ content: '"usage"' }) + DONE;
  golden(t, strip, input, expected, { input_tokens: 11, output_tokens: 3 });
});

const call = (args: string, head = false) =>
  chunk({ tool_calls: [head ? { index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: args } } : { index: 0, function: { arguments: args } }] }, null, { usage: null });

t.test('finish_reason "stop" after a tool call becomes "tool_calls", as on the translated paths', async (t) => {
  const input = call('', true) + call('{"city":"Paris"}') + chunk({}, 'stop', { usage: null }) + usageChunk(7, 4) + DONE;
  const expected = input.replace('"finish_reason":"stop"', '"finish_reason":"tool_calls"');
  golden(t, keep, input, expected, { input_tokens: 7, output_tokens: 4 });
  golden(t, strip, input, expected.replaceAll(',"usage":null', '').replace(usageChunk(7, 4), ''), { input_tokens: 7, output_tokens: 4 });
  const spaced = call('', true) + 'data: {"choices":[{"index":0,"delta":{},"finish_reason" : "stop"}]}\n\n';
  golden(t, keep, spaced, spaced.replace('"finish_reason" : "stop"', '"finish_reason" : "tool_calls"'));
  const sameChunk = 'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}]}\n\n';
  golden(t, keep, sameChunk, sameChunk.replace('"finish_reason":"stop"', '"finish_reason":"tool_calls"'), undefined);
});

t.test('no tool call, an empty tool_calls array, "length", or text that mentions tool_calls: finish as the server said', async (t) => {
  const text = chunk({ content: 'the "tool_calls":[1] member, "finish_reason":"stop"' }) + chunk({}, 'stop') + DONE;
  golden(t, keep, text, text);
  const empty = chunk({ content: 'x', tool_calls: [] }) + chunk({ tool_calls: [ ] }) + chunk({}, 'stop') + DONE;
  golden(t, keep, empty, empty);
  const cut = call('', true) + call('{"ci') + chunk({}, 'length') + DONE;
  golden(t, keep, cut, cut);
  const already = call('', true) + chunk({}, 'tool_calls') + DONE;
  golden(t, keep, already, already);
});

t.test('several choices (n > 1): the bytes do not say which choice called, so finish stays as sent', async (t) => {
  const f = filter({ strip: false, toolFinish: false });
  const input = call('', true) + chunk({}, 'stop') + DONE;
  golden(t, f, input, input);
});

t.test('error events are found by their members in any spacing; "error" as another value or in text is no error', async (t) => {
  const spaced = 'data: {"object" : "error", "message": "boom", "code": 500}\n\n';
  golden(t, keep, spaced, 'data: {"error":{"message":"The model server failed: boom","type":"server_error","param":null,"code":"upstream_error"}}\n\n');
  const notErrors =
    chunk({ content: 'x' }, 'error') +
    chunk({ content: '{"object":"error"} and "error": as text' }) +
    'data: {"choices":[{"index":0,"delta":{}}],"error" : null}\n\n' +
    DONE;
  golden(t, keep, notErrors, notErrors);
});
