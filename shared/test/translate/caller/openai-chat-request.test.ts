import t, { type Test } from 'tap';
import { TokiosError } from '../../../src/errors/registry.js';
import { parseOpenAIChatRequest } from '../../../src/translate/caller/openai-chat/index.js';
import { Ignored } from '../../../src/translate/caller/ignored.js';

function rejects(t: Test, body: unknown, expected: { code: string; param: string | null; message?: string }): void {
  try {
    parseOpenAIChatRequest(body);
    t.fail(`accepted ${JSON.stringify(body).slice(0, 120)}`);
  } catch (err) {
    if (!(err instanceof TokiosError)) throw err;
    const got: Record<string, unknown> = { code: err.code, param: err.param };
    if (expected.message !== undefined) got['message'] = err.message;
    t.strictSame(got, expected, JSON.stringify(expected));
  }
}

const msgs = [{ role: 'user', content: 'hi' }];

t.test('full request -> pivot', async (t) => {
  const body = {
    model: 'my-llama',
    messages: [
      { role: 'developer', content: [{ type: 'text', text: 'Rule 1' }, { type: 'text', text: 'Rule 2' }] },
      { role: 'system', content: 'Be brief.', name: 'ignored' },
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/', detail: 'low' } }] },
      { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: '-3C' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Cold' }], reasoning_content: 'checked' },
    ],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0,
    top_p: 1,
    top_k: 20,
    max_completion_tokens: 100,
    stop: 'END',
    tools: [{ type: 'function', function: { name: 'get_weather', description: 'd', parameters: { type: 'object' }, strict: false } }],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: true,
    user: 'u1',
    seed: 42,
    n: 1,
    frequency_penalty: 0,
    presence_penalty: null,
    logprobs: false,
    response_format: { type: 'text' },
    metadata: { a: 'b' },
    store: false,
    service_tier: 'auto',
  };
  t.strictSame(parseOpenAIChatRequest(body), {
    model: 'my-llama',
    messages: [
      { role: 'system', content: 'Rule 1\nRule 2' },
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/', detail: 'low' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '-3C' },
      { role: 'assistant', content: 'Cold', reasoning_content: 'checked' },
    ],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0,
    top_p: 1,
    top_k: 20,
    max_tokens: 100,
    stop: ['END'],
    seed: 42,
    user: 'u1',
    tools: [{ type: 'function', function: { name: 'get_weather', description: 'd', parameters: { type: 'object' } } }],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: true,
  });
});

t.test('minimal request; nulls mean absent; stream defaults to false', async (t) => {
  t.strictSame(parseOpenAIChatRequest({ model: 'm', messages: msgs, temperature: null, stop: null, tools: null, max_tokens: 5 }), {
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    stream: false,
    max_tokens: 5,
  });
});

t.test('unsupported parameters are named (400 unsupported_parameter)', async (t) => {
  rejects(t, { model: 'm', messages: msgs, n: 2 }, { code: 'unsupported_parameter', param: 'n', message: "'n' is not supported by this deployment." });
  rejects(t, { model: 'm', messages: msgs, logprobs: true }, { code: 'unsupported_parameter', param: 'logprobs' });
  rejects(t, { model: 'm', messages: msgs, top_logprobs: 3 }, { code: 'unsupported_parameter', param: 'top_logprobs' });
  rejects(t, { model: 'm', messages: msgs, audio: { voice: 'alloy', format: 'mp3' } }, { code: 'unsupported_parameter', param: 'audio' });
  rejects(t, { model: 'm', messages: msgs, modalities: ['text', 'audio'] }, { code: 'unsupported_parameter', param: 'modalities' });
  rejects(t, { model: 'm', messages: msgs, frequency_penalty: 0.5 }, { code: 'unsupported_parameter', param: 'frequency_penalty' });
  rejects(t, { model: 'm', messages: msgs, logit_bias: { '50256': -100 } }, { code: 'unsupported_parameter', param: 'logit_bias' });
  rejects(t, { model: 'm', messages: msgs, functions: [{ name: 'f' }] }, { code: 'unsupported_parameter', param: 'functions' });
  rejects(t, { model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }, {
    code: 'unsupported_parameter',
    param: 'messages[0].content[0].type',
    message: "Content parts of type 'input_audio' are not supported by this deployment.",
  });
  rejects(t, { model: 'm', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'f' } }] }] }, { code: 'unsupported_parameter', param: 'messages[0].content[0].type' });
  rejects(t, { model: 'm', messages: [{ role: 'function', name: 'f', content: 'x' }] }, { code: 'unsupported_parameter', param: 'messages[0].role' });
  rejects(t, { model: 'm', messages: [{ role: 'assistant', content: 'x', function_call: { name: 'f', arguments: '{}' } }] }, { code: 'unsupported_parameter', param: 'messages[0].function_call' });
  rejects(t, { model: 'm', messages: msgs, tools: [{ type: 'custom', custom: { name: 'f' } }] }, { code: 'unsupported_parameter', param: 'tools[0].type' });
  rejects(t, { model: 'm', messages: msgs, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'allowed_tools', allowed_tools: {} } }, { code: 'unsupported_parameter', param: 'tool_choice' });
});

t.test('hints, unknown fields and strict are accepted and reported as ignored', async (t) => {
  const ignored = new Ignored();
  const req = parseOpenAIChatRequest(
    {
      model: 'm', messages: msgs, reasoning_effort: 'high', verbosity: 'low', foo: 1, prediction: { type: 'content', content: 'x' },
      web_search_options: {}, prompt_cache_key: 'k', store: false, empty: null,
      tools: [{ type: 'function', function: { name: 'f', strict: true } }],
    },
    ignored,
  );
  t.strictSame(req, { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: false, tools: [{ type: 'function', function: { name: 'f' } }] });
  t.strictSame(ignored.list().sort(), ['foo', 'prediction', 'prompt_cache_key', 'reasoning_effort', 'store', 'tools.function.strict', 'verbosity', 'web_search_options']);
});

t.test('invalid requests (400 invalid_request) with the param path', async (t) => {
  rejects(t, 'text', { code: 'invalid_request', param: null, message: 'The request body must be a JSON object.' });
  rejects(t, [], { code: 'invalid_request', param: null });
  rejects(t, { messages: msgs }, { code: 'invalid_request', param: 'model' });
  rejects(t, { model: 'm', messages: [] }, { code: 'invalid_request', param: 'messages' });
  rejects(t, { model: 'm', messages: [{ role: 'robot', content: 'x' }] }, { code: 'invalid_request', param: 'messages[0].role' });
  rejects(t, { model: 'm', messages: [{ role: 'user', content: 5 }] }, { code: 'invalid_request', param: 'messages[0].content' });
  rejects(t, { model: 'm', messages: [{ role: 'assistant', content: null }] }, { code: 'invalid_request', param: 'messages[0].content' });
  rejects(t, { model: 'm', messages: [{ role: 'tool', content: 'x' }] }, { code: 'invalid_request', param: 'messages[0].tool_call_id' });
  rejects(t, { model: 'm', messages: msgs, temperature: 3 }, { code: 'invalid_request', param: 'temperature' });
  rejects(t, { model: 'm', messages: msgs, top_p: -0.1 }, { code: 'invalid_request', param: 'top_p' });
  rejects(t, { model: 'm', messages: msgs, max_tokens: 0 }, { code: 'invalid_request', param: 'max_tokens' });
  rejects(t, { model: 'm', messages: msgs, max_tokens: 1.5 }, { code: 'invalid_request', param: 'max_tokens' });
  rejects(t, { model: 'm', messages: msgs, max_tokens: 10, max_completion_tokens: 20 }, { code: 'invalid_request', param: 'max_tokens' });
  rejects(t, { model: 'm', messages: msgs, stop: ['a', 'b', 'c', 'd', 'e'] }, { code: 'invalid_request', param: 'stop' });
  rejects(t, { model: 'm', messages: msgs, stop: '' }, { code: 'invalid_request', param: 'stop' });
  rejects(t, { model: 'm', messages: msgs, stream: false, stream_options: { include_usage: true } }, { code: 'invalid_request', param: 'stream_options' });
  rejects(t, { model: 'm', messages: msgs, tool_choice: 'required' }, { code: 'invalid_request', param: 'tool_choice' });
  rejects(t, { model: 'm', messages: msgs, tools: [{ type: 'function', function: { name: 'a' } }], tool_choice: { type: 'function', function: { name: 'b' } } }, {
    code: 'invalid_request',
    param: 'tool_choice',
    message: "tool_choice names 'b', which is not in 'tools'.",
  });
  rejects(t, { model: 'm', messages: msgs, tools: [{ type: 'function', function: { name: 'bad name!' } }] }, { code: 'invalid_request', param: 'tools[0].function.name' });
  rejects(t, { model: 'm', messages: msgs, tools: [{ type: 'function' }] }, { code: 'invalid_request', param: 'tools[0].function' });
  rejects(t, { model: 'x'.repeat(257), messages: msgs }, { code: 'invalid_request', param: 'model' });
});

t.test('size limits at the boundary', async (t) => {
  rejects(t, { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(8 * 1024 * 1024 + 1) }] }, { code: 'invalid_request', param: 'messages[0].content' });
  const many = Array.from({ length: 10_001 }, () => ({ role: 'user', content: 'a' }));
  rejects(t, { model: 'm', messages: many }, { code: 'invalid_request', param: 'messages' });
});

t.test('assistant refusal is kept as content; refusal parts too', async (t) => {
  t.strictSame(parseOpenAIChatRequest({ model: 'm', messages: [{ role: 'assistant', content: null, refusal: 'I cannot.' }] }).messages, [{ role: 'assistant', content: 'I cannot.' }]);
  t.strictSame(parseOpenAIChatRequest({ model: 'm', messages: [{ role: 'assistant', content: [{ type: 'refusal', refusal: 'No.' }] }] }).messages, [{ role: 'assistant', content: 'No.' }]);
});

t.test('structured output: response_format json_object and json_schema reach the pivot; text is the default', async (t) => {
  const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
  const parse = (response_format: unknown) => parseOpenAIChatRequest({ model: 'm', messages: msgs, response_format }).response_format;
  t.strictSame(parse({ type: 'json_object' }), { type: 'json_object' });
  t.strictSame(parse({ type: 'json_schema', json_schema: { name: 'city', schema, strict: true, description: 'd' } }), {
    type: 'json_schema',
    json_schema: { name: 'city', description: 'd', schema, strict: true },
  });
  t.strictSame(parse({ type: 'json_schema', json_schema: { name: 'city', schema: null, strict: null } }), { type: 'json_schema', json_schema: { name: 'city' } });
  t.equal(parse({ type: 'text' }), undefined);
  t.equal(parse(null), undefined);
  rejects(t, { model: 'm', messages: msgs, response_format: { type: 'json_schema' } }, { code: 'invalid_request', param: 'response_format.json_schema' });
  rejects(t, { model: 'm', messages: msgs, response_format: { type: 'json_schema', json_schema: { name: 'a b' } } }, { code: 'invalid_request', param: 'response_format.json_schema.name' });
  rejects(t, { model: 'm', messages: msgs, response_format: { type: 'json_schema', json_schema: { name: 'a', schema: [] } } }, { code: 'invalid_request', param: 'response_format.json_schema.schema' });
  rejects(t, { model: 'm', messages: msgs, response_format: { type: 'xml' } }, { code: 'invalid_request', param: 'response_format.type' });
});
