import t, { type Test } from 'tap';
import { anthropicCaller } from '../../../src/translate/caller/anthropic/index.js';
import { TokiosError } from '../../../src/errors/registry.js';
import { Ignored } from '../../../src/translate/caller/ignored.js';

const parse = (body: unknown) => anthropicCaller.parseRequest(body);
const base = { model: 'llama', max_tokens: 256 };

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

t.test('minimal text request', async (t) => {
  t.strictSame(parse({ ...base, messages: [{ role: 'user', content: 'Hi' }] }), {
    model: 'llama',
    messages: [{ role: 'user', content: 'Hi' }],
    stream: false,
    max_tokens: 256,
  });
});

t.test('all scalar parameters', async (t) => {
  t.strictSame(
    parse({
      ...base,
      stream: true,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['\n\nHuman:', 'END'],
      metadata: { user_id: 'u-42' },
      service_tier: 'auto',
      messages: [{ role: 'user', content: 'Hi' }],
    }),
    {
      model: 'llama',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      max_tokens: 256,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop: ['\n\nHuman:', 'END'],
      user: 'u-42',
    },
  );
});

t.test('system as string, as blocks with cache_control, and role system inside messages', async (t) => {
  t.strictSame(parse({ ...base, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] }).messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
  ]);
  const blocks = parse({
    ...base,
    system: [
      { type: 'text', text: 'You are Claude Code.' },
      { type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } },
    ],
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'Late instruction.' }] },
      { role: 'user', content: 'Hi' },
    ],
  });
  t.strictSame(blocks.messages, [
    { role: 'system', content: 'You are Claude Code.\nBe brief.' },
    { role: 'system', content: 'Late instruction.' },
    { role: 'user', content: 'Hi' },
  ]);
});

t.test('images: base64 -> data URL, url -> url', async (t) => {
  const req = parse({
    ...base,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' }, cache_control: { type: 'ephemeral' } },
        ],
      },
    ],
  });
  t.strictSame(req.messages, [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
      ],
    },
  ]);
});

t.test('tool round trip: tools, tool_choice, tool_use history, tool_result before remaining user text', async (t) => {
  const req = parse({
    ...base,
    tools: [
      {
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        cache_control: { type: 'ephemeral' },
      },
      { name: 'get_time', input_schema: { type: 'object', properties: {} } },
    ],
    tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    messages: [
      { role: 'user', content: 'Weather and time in Paris?' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Need two tools.', signature: 'sig' },
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18C' }, { type: 'text', text: 'sunny' }] },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'unknown timezone', is_error: true },
          { type: 'text', text: 'Also, thanks!' },
        ],
      },
    ],
  });
  t.strictSame(req, {
    model: 'llama',
    messages: [
      { role: 'user', content: 'Weather and time in Paris?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
        reasoning_content: 'Need two tools.',
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18C\nsunny' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: unknown timezone' },
      { role: 'user', content: [{ type: 'text', text: 'Also, thanks!' }] },
    ],
    stream: false,
    max_tokens: 256,
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
      { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
    ],
    tool_choice: 'auto',
    parallel_tool_calls: false,
  });
});

t.test('tool_result only: no empty user message follows; assistant tool-only content is null', async (t) => {
  const req = parse({
    ...base,
    messages: [
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1' }] },
    ],
  });
  t.strictSame(req.messages, [
    { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
    { role: 'tool', tool_call_id: 't1', content: '' },
  ]);
});

t.test('tool_choice mapping', async (t) => {
  const choice = (tool_choice: unknown) => {
    const r = parse({ ...base, messages: [{ role: 'user', content: 'x' }], tool_choice });
    return { tool_choice: r.tool_choice, parallel_tool_calls: r.parallel_tool_calls };
  };
  t.strictSame(choice({ type: 'auto' }), { tool_choice: 'auto', parallel_tool_calls: undefined });
  t.strictSame(choice({ type: 'any' }), { tool_choice: 'required', parallel_tool_calls: undefined });
  t.strictSame(choice({ type: 'none' }), { tool_choice: 'none', parallel_tool_calls: undefined });
  t.strictSame(choice({ type: 'tool', name: 'get_weather', disable_parallel_tool_use: true }), {
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: false,
  });
  rejects(t, { ...base, messages: [{ role: 'user', content: 'x' }], tool_choice: { type: 'sometimes' } }, 'invalid_request', 'tool_choice.type');
  rejects(t, { ...base, messages: [{ role: 'user', content: 'x' }], tool_choice: { type: 'tool' } }, 'invalid_request', 'tool_choice.name');
});

t.test('thinking is validated and accepted as advisory', async (t) => {
  const msgs = [{ role: 'user', content: 'x' }];
  const plain = parse({ ...base, messages: msgs });
  t.strictSame(parse({ ...base, messages: msgs, thinking: { type: 'enabled', budget_tokens: 128 } }), plain);
  t.strictSame(parse({ ...base, messages: msgs, thinking: { type: 'disabled' } }), plain);
  t.strictSame(parse({ ...base, messages: msgs, thinking: { type: 'adaptive' } }), plain);
  rejects(t, { ...base, messages: msgs, thinking: { type: 'enabled' } }, 'invalid_request', 'thinking.budget_tokens');
  rejects(t, { ...base, messages: msgs, thinking: { type: 'enabled', budget_tokens: 256 } }, 'invalid_request', 'thinking.budget_tokens');
  rejects(t, { ...base, messages: msgs, thinking: { type: 'max' } }, 'invalid_request', 'thinking.type');
});

t.test('rejections name the parameter', async (t) => {
  const msgs = [{ role: 'user', content: 'x' }];
  rejects(t, 'nope', 'invalid_request', 'body');
  rejects(t, { model: 'llama', messages: msgs }, 'invalid_request', 'max_tokens');
  rejects(t, { ...base, max_tokens: 0, messages: msgs }, 'invalid_request', 'max_tokens');
  rejects(t, { ...base, max_tokens: 1.5, messages: msgs }, 'invalid_request', 'max_tokens');
  rejects(t, { max_tokens: 5, messages: msgs }, 'invalid_request', 'model');
  rejects(t, { ...base, messages: [] }, 'invalid_request', 'messages');
  rejects(t, { ...base, messages: msgs, temperature: 1.5 }, 'invalid_request', 'temperature');
  rejects(t, { ...base, messages: msgs, top_p: -0.1 }, 'invalid_request', 'top_p');
  rejects(t, { ...base, messages: msgs, top_k: 2.5 }, 'invalid_request', 'top_k');
  rejects(t, { ...base, messages: msgs, stop_sequences: ['a', 1] }, 'invalid_request', 'stop_sequences[1]');
  rejects(t, { ...base, messages: [{ role: 'tool', content: 'x' }] }, 'invalid_request', 'messages[0].role');
  rejects(
    t,
    { ...base, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x' } }] }] },
    'unsupported_parameter',
    'messages[0].content[0].type',
  );
  rejects(
    t,
    { ...base, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] },
    'unsupported_parameter',
    'messages[0].content[0].source.type',
  );
  rejects(
    t,
    { ...base, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/tiff', data: 'x' } }] }] },
    'invalid_request',
    'messages[0].content[0].source.media_type',
  );
  rejects(
    t,
    { ...base, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: 'x' }] }] },
    'invalid_request',
    'messages[0].content[0].input',
  );
  rejects(t, { ...base, messages: msgs, tools: [{ name: 'f' }] }, 'invalid_request', 'tools[0].input_schema');
});

t.test('advisory and unknown fields are accepted and reported; server tools and their history dropped', async (t) => {
  const msgs = [{ role: 'user', content: 'x' }];
  const plain = parse({ ...base, messages: msgs });
  const ignored = new Ignored();
  const req = anthropicCaller.parseRequest(
    {
      ...base,
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'x' }, { type: 'server_tool_use', id: 's', name: 'web_search', input: {} }, { type: 'text', text: 'y' }] },
        { role: 'user', content: 'z' },
      ],
      container: 'c1',
      mcp_servers: [],
      metadata: { user_id: 'u', tenant: 'x' },
      context_management: { edits: [] },
      output_config: { effort: 'high' },
      brand_new_field: 1,
      tools: [
        { type: 'web_search_20250305', name: 'web_search' },
        { name: 'f', input_schema: {}, strict: true, input_examples: [], defer_loading: true, eager_input_streaming: true },
      ],
    },
    ignored,
  );
  t.strictSame(req.tools, [{ type: 'function', function: { name: 'f', parameters: {} } }], 'only the custom tool is sent (deferred or not)');
  t.equal(req.user, 'u');
  t.strictSame(req.messages[1], { role: 'assistant', content: 'y' });
  t.strictSame(ignored.list().sort(), [
    'brand_new_field', 'container', 'context_management', 'mcp_servers', 'messages.content:redacted_thinking', 'messages.content:server_tool_use',
    'metadata.tenant', 'output_config.effort', 'tools.defer_loading', 'tools.eager_input_streaming', 'tools.input_examples', 'tools.strict', 'tools:web_search_20250305',
  ]);
  t.strictSame(parse({ ...base, messages: msgs, speed: 'fast', inference_geo: 'eu' }), plain, 'no effect on the pivot');
  rejects(t, { ...base, messages: msgs, context_management: 'x' }, 'invalid_request', 'context_management');
  rejects(t, { ...base, messages: msgs, tools: [{ name: 'f', input_schema: {}, defer_loading: 'yes' }] }, 'invalid_request', 'tools[0].defer_loading');
  const schema = { type: 'object', properties: { a: { type: 'string' } } };
  const structured = { type: 'json_schema', json_schema: { name: 'output', schema } };
  t.strictSame(parse({ ...base, messages: msgs, output_config: { effort: 'low', format: { type: 'json_schema', schema } } }).response_format, structured, 'output_config.format is structured output');
  t.strictSame(parse({ ...base, messages: msgs, output_format: { type: 'json_schema', schema } }).response_format, structured, 'output_format (the beta name) too');
  rejects(t, { ...base, messages: msgs, output_config: { format: { type: 'regex' } } }, 'invalid_request', 'output_config.format.type');
  rejects(t, { ...base, messages: msgs, output_format: { type: 'json_schema' } }, 'invalid_request', 'output_format.schema');
});

t.test('tool results keep their images; tool_reference blocks read as text', async (t) => {
  const req = parse({
    ...base,
    messages: [
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Read', input: {} }, { type: 'tool_use', id: 't2', name: 'ToolSearch', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'a picture' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
          { type: 'tool_result', tool_use_id: 't2', content: [{ type: 'tool_reference', tool_name: 'Deferred' }] },
          { type: 'tool_result', tool_use_id: 't3', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] },
        ],
      },
    ],
  });
  t.strictSame(req.messages.slice(1), [
    { role: 'tool', tool_call_id: 't1', content: [{ type: 'text', text: 'a picture' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
    { role: 'tool', tool_call_id: 't2', content: 'Tool available: Deferred' },
    { role: 'tool', tool_call_id: 't3', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
  ]);
  rejects(
    t,
    { ...base, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'document', source: {} }] }] }] },
    'unsupported_parameter',
    'messages[0].content[0].content[0].type',
  );
});

t.test('error messages never echo prompt text', async (t) => {
  try {
    parse({ ...base, messages: [{ role: 'user', content: [{ type: 'my secret prompt', text: 'x' }] }] });
    t.fail('should throw');
  } catch (err) {
    t.equal((err as Error).message, 'messages[0].content[0].type: content blocks of type are not supported here');
  }
  try {
    parse({ ...base, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] });
    t.fail('should throw');
  } catch (err) {
    t.equal((err as Error).message, "messages[0].content[0].type: content blocks of type 'document' are not supported here");
  }
});
