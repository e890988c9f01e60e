import t, { type Test } from 'tap';
import { responsesCaller } from '../../../src/translate/caller/responses/index.js';
import { TokiosError } from '../../../src/errors/registry.js';
import { Ignored } from '../../../src/translate/caller/ignored.js';

const parse = (body: unknown) => responsesCaller.parseRequest(body);
const base = { model: 'qwen' };

function rejects(t: Test, body: unknown, code: 'invalid_request' | 'unsupported_parameter', param: string): void {
  try {
    parse(body);
    t.fail(`expected a ${code} error for ${param}`);
  } catch (err) {
    t.ok(err instanceof TokiosError, 'TokiosError');
    const e = err as TokiosError;
    t.equal(e.code, code, `code for ${param}`);
    t.equal(e.param, param, 'param named');
    t.equal(e.status, 400);
  }
}

t.test('string input with instructions and scalar parameters', async (t) => {
  t.strictSame(
    parse({
      ...base,
      input: 'Hi',
      instructions: 'Be brief.',
      max_output_tokens: 100,
      temperature: 1.5,
      top_p: 0.5,
      parallel_tool_calls: false,
      stream: true,
      user: 'u-1',
      store: false,
      metadata: { trace: 'abc' },
    }),
    {
      model: 'qwen',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      stream: true,
      max_tokens: 100,
      temperature: 1.5,
      top_p: 0.5,
      parallel_tool_calls: false,
      user: 'u-1',
    },
  );
});

t.test('message items: roles, input_text/input_image parts, output_text history', async (t) => {
  t.strictSame(
    parse({
      ...base,
      input: [
        { role: 'developer', content: 'Use metric units.' },
        { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'A' }, { type: 'input_text', text: 'B' }] },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is in these?' },
            { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' },
            { type: 'input_image', image_url: 'https://example.com/cat.jpg' },
          ],
        },
        { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'A cat.', annotations: [] }] },
        { role: 'user', content: 'Thanks' },
      ],
    }).messages,
    [
      { role: 'system', content: 'Use metric units.' },
      { role: 'system', content: 'A\nB' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
      { role: 'assistant', content: 'A cat.' },
      { role: 'user', content: 'Thanks' },
    ],
  );
});

t.test('tool round trip: tools, tool_choice, reasoning + text + parallel function_calls, outputs', async (t) => {
  t.strictSame(
    parse({
      ...base,
      tools: [
        {
          type: 'function',
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          strict: true,
        },
        { type: 'function', name: 'get_time', parameters: null, strict: false },
      ],
      tool_choice: { type: 'function', name: 'get_weather' },
      input: [
        { role: 'user', content: 'Weather and time in Paris?' },
        { id: 'rs_1', type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Two tools.' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
        { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
        { type: 'function_call', call_id: 'call_b', name: 'get_time', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_a', output: '18C' },
        { type: 'function_call_output', call_id: 'call_b', output: [{ type: 'input_text', text: '14:00' }] },
      ],
    }),
    {
      model: 'qwen',
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        {
          role: 'assistant',
          content: 'Checking.',
          reasoning_content: 'Two tools.',
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '18C' },
        { role: 'tool', tool_call_id: 'call_b', content: '14:00' },
      ],
      stream: false,
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
        { type: 'function', function: { name: 'get_time' } },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    },
  );
});

t.test('function_call without preceding assistant text starts an assistant message with null content', async (t) => {
  t.strictSame(
    parse({
      ...base,
      input: [
        { role: 'user', content: 'ls' },
        { type: 'function_call', call_id: 'c1', name: 'ls', arguments: '' },
        { type: 'function_call_output', call_id: 'c1', output: 'a.txt' },
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Done.' }] },
      ],
    }).messages,
    [
      { role: 'user', content: 'ls' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'ls', arguments: '' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'a.txt' },
      { role: 'assistant', content: '', reasoning_content: 'Done.' },
    ],
  );
});

t.test('tool_choice strings', async (t) => {
  for (const c of ['auto', 'none', 'required'] as const) t.equal(parse({ ...base, input: 'x', tool_choice: c }).tool_choice, c);
});

t.test('advisory and neutral parameters are accepted', async (t) => {
  const plain = parse({ ...base, input: 'x' });
  t.strictSame(
    parse({
      ...base,
      input: 'x',
      reasoning: { effort: 'high', summary: 'auto' },
      include: ['reasoning.encrypted_content'],
      text: { format: { type: 'text' } },
      truncation: 'disabled',
      service_tier: 'auto',
      prompt_cache_key: 'k',
      stream_options: { include_obfuscation: false },
      background: false,
      previous_response_id: null,
      top_logprobs: 0,
    }),
    plain,
  );
  t.equal(parse({ ...base, input: 'x', safety_identifier: 'hash-1' }).user, 'hash-1');
});

t.test('stateful and unsupported features are rejected naming the parameter', async (t) => {
  const x = { ...base, input: 'x' };
  rejects(t, { ...x, previous_response_id: 'resp_1' }, 'unsupported_parameter', 'previous_response_id');
  rejects(t, { ...x, conversation: 'conv_1' }, 'unsupported_parameter', 'conversation');
  rejects(t, { ...x, store: true }, 'unsupported_parameter', 'store');
  rejects(t, { ...x, background: true }, 'unsupported_parameter', 'background');
  rejects(t, { ...x, prompt: { id: 'pmpt_1' } }, 'unsupported_parameter', 'prompt');
  rejects(t, { ...x, tool_choice: { type: 'file_search' } }, 'unsupported_parameter', 'tool_choice');
  rejects(t, { ...x, tool_choice: 'sometimes' }, 'invalid_request', 'tool_choice');
  rejects(t, { ...x, top_logprobs: 5 }, 'unsupported_parameter', 'top_logprobs');
  rejects(t, { ...base, input: [{ type: 'item_reference', id: 'msg_1' }] }, 'unsupported_parameter', 'input[0].type');
  rejects(t, { ...base, input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }, 'unsupported_parameter', 'input[0].content[0].type');
  rejects(t, { ...base, input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'f' }] }] }, 'unsupported_parameter', 'input[0].content[0].file_id');
});

t.test('advisory, unknown and hosted-tool fields are accepted and reported; namespaces flattened; output images kept', async (t) => {
  const ignored = new Ignored();
  const req = responsesCaller.parseRequest(
    {
      ...base,
      input: [
        { type: 'web_search_call', id: 'ws_1', status: 'completed' },
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'thought' }], encrypted_content: 'gAAA' },
        { type: 'function_call', call_id: 'c1', name: 'close_agent', namespace: 'multi_agent', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_text', text: 'shot' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'high' }] },
      ],
      client_metadata: { a: 'b' }, store: false, include: ['reasoning.encrypted_content'], reasoning: { summary: 'auto', effort: 'max' },
      truncation: 'auto', text: { verbosity: 'low' }, max_tool_calls: 3, service_tier: 'flex', frequency_penalty: 1,
      tools: [
        { type: 'web_search', external_web_access: false },
        { type: 'function', name: 'f', strict: false, defer_loading: true, parameters: { type: 'object' } },
        { type: 'namespace', name: 'multi_agent', description: 'agents', tools: [{ type: 'function', name: 'close_agent', strict: false }] },
      ],
    },
    ignored,
  );
  t.strictSame(req.tools, [
    { type: 'function', function: { name: 'f', parameters: { type: 'object' } } },
    { type: 'function', function: { name: 'multi_agent__close_agent' } },
  ]);
  t.strictSame([...(req.namespaced ?? [])], [['multi_agent__close_agent', { namespace: 'multi_agent', name: 'close_agent' }]]);
  t.strictSame(req.messages, [
    { role: 'assistant', content: null, reasoning_content: 'thought', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'multi_agent__close_agent', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: 'shot' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'high' } }] },
  ]);
  t.strictSame(ignored.list().sort(), [
    'client_metadata', 'frequency_penalty', 'include', 'input.encrypted_content', 'input:web_search_call', 'max_tool_calls', 'reasoning', 'service_tier',
    'store', 'text.verbosity', 'tools.defer_loading', 'tools.strict', 'tools.tools.strict', 'tools:web_search', 'truncation',
  ]);
  rejects(t, { ...base, input: 'x', tools: [{ type: 'custom', name: 'apply_patch' }] }, 'unsupported_parameter', 'tools[0].type');
  rejects(t, { ...base, input: 'x', tools: [{ type: 'function', name: 'a__b' }, { type: 'namespace', name: 'a', tools: [{ type: 'function', name: 'b' }] }] }, 'invalid_request', 'tools[1].tools[0].name');
  rejects(t, { ...base, input: 'x', client_metadata: 'x' }, 'invalid_request', 'client_metadata');
});

t.test('invalid values are rejected, never clamped', async (t) => {
  const x = { ...base, input: 'x' };
  rejects(t, 42, 'invalid_request', 'body');
  rejects(t, { input: 'x' }, 'invalid_request', 'model');
  rejects(t, { ...base }, 'invalid_request', 'input');
  rejects(t, { ...base, input: [] }, 'invalid_request', 'input');
  rejects(t, { ...x, temperature: 2.5 }, 'invalid_request', 'temperature');
  rejects(t, { ...x, top_p: 1.1 }, 'invalid_request', 'top_p');
  rejects(t, { ...x, max_output_tokens: 0 }, 'invalid_request', 'max_output_tokens');
  rejects(t, { ...x, stream: 'yes' }, 'invalid_request', 'stream');
  rejects(t, { ...base, input: [{ role: 'tool', content: 'x' }] }, 'invalid_request', 'input[0].role');
  rejects(t, { ...base, input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: { a: 1 } }] }, 'invalid_request', 'input[0].arguments');
  rejects(t, { ...base, input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x', detail: 'original' }] }] }, 'invalid_request', 'input[0].content[0].detail');
});

t.test('structured output: text.format json_object / json_schema -> the pivot response_format', async (t) => {
  const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
  const x = { ...base, input: 'x' };
  t.strictSame(parse({ ...x, text: { format: { type: 'json_object' } } }).response_format, { type: 'json_object' });
  t.strictSame(parse({ ...x, text: { format: { type: 'json_schema', name: 'count', schema, strict: true, description: 'd' } } }).response_format, {
    type: 'json_schema',
    json_schema: { name: 'count', schema, description: 'd', strict: true },
  });
  t.equal(parse({ ...x, text: { format: { type: 'text' } } }).response_format, undefined);
  t.equal(parse({ ...x, text: {} }).response_format, undefined);
  rejects(t, { ...x, text: { format: { type: 'json_schema', name: 'count' } } }, 'invalid_request', 'text.format.schema');
  rejects(t, { ...x, text: { format: { type: 'json_schema', name: 'a b', schema } } }, 'invalid_request', 'text.format.name');
  const ignored = new Ignored();
  responsesCaller.parseRequest({ ...x, text: { format: { type: 'json_schema', name: 'c', schema, extra: 1 } } }, ignored);
  t.strictSame(ignored.list(), ['text.format.extra'], 'an unknown key of the format is accepted and reported');
  rejects(t, { ...x, text: { format: { type: 'grammar' } } }, 'invalid_request', 'text.format.type');
});
