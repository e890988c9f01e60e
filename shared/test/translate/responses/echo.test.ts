/**
 * Response objects echo the request (instructions, tools, sampling values, text format…) through the plan, in the
 * created, in-progress and final events of a stream and in a whole response; a request naming none of them gets
 * the neutral values.
 */
import t from 'tap';
import { planTranslation, type UpstreamPlan } from '../../../src/translate/index.js';
import { fixedOptions, sse } from '../support.js';

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1714557600, model: 'qwen' };
const upstream = sse(
  { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '{"n":1}' }, finish_reason: null }] },
  { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  { ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } },
  '[DONE]',
);

function plan(body: Record<string, unknown>): UpstreamPlan {
  return planTranslation({ rid: 'r1', protocol: 'openai.responses', model: 'team-llama', stream: body['stream'] === true }, Buffer.from(JSON.stringify(body)), { kind: 'openai', model: 'qwen' }, { decoderOptions: fixedOptions() });
}

function run(p: UpstreamPlan): string {
  const a = p.translate(200, 'text/event-stream');
  return a.push(Buffer.from(upstream)).toString() + a.end().toString();
}

const tools = [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
const format = { type: 'json_schema', name: 'count', schema: { type: 'object', properties: { n: { type: 'integer' } } }, strict: true };
const request = {
  model: 'team-llama',
  input: 'Count.',
  instructions: 'Answer in JSON.',
  tools,
  tool_choice: 'auto',
  parallel_tool_calls: false,
  temperature: 0.3,
  top_p: 0.9,
  max_output_tokens: 64,
  metadata: { run: '7' },
  text: { format },
  reasoning: { effort: 'low', summary: 'auto' },
  prompt_cache_key: 'session-1',
  safety_identifier: 'user-hash',
  store: false,
};
const echoed = {
  instructions: 'Answer in JSON.',
  max_output_tokens: 64,
  metadata: { run: '7' },
  parallel_tool_calls: false,
  temperature: 0.3,
  text: { format },
  tool_choice: 'auto',
  tools,
  top_p: 0.9,
  store: false,
  truncation: 'disabled',
  prompt_cache_key: 'session-1',
  safety_identifier: 'user-hash',
  reasoning: { effort: 'low', summary: 'auto' },
};

t.test('a whole response echoes what the request set', async (t) => {
  const res = JSON.parse(run(plan(request))) as Record<string, unknown>;
  t.match(res, { object: 'response', status: 'completed', model: 'team-llama', ...echoed });
  t.strictSame(res['tools'], tools);
});

t.test('every response object of a stream echoes it too', async (t) => {
  const out = run(plan({ ...request, stream: true }));
  const responses = out
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as { type: string; response?: Record<string, unknown> })
    .filter((e) => e.response !== undefined);
  t.strictSame(responses.map((e) => e.type), ['response.created', 'response.in_progress', 'response.completed']);
  for (const e of responses) t.match(e.response, echoed, e.type);
});

t.test('nothing set: the neutral values, and no optional members', async (t) => {
  const res = JSON.parse(run(plan({ model: 'team-llama', input: 'x' }))) as Record<string, unknown>;
  t.match(res, { instructions: null, max_output_tokens: null, metadata: {}, parallel_tool_calls: true, temperature: null, text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [], top_p: null });
  for (const key of ['prompt_cache_key', 'safety_identifier', 'reasoning', 'user']) t.notOk(key in res, `${key} left out`);
});
