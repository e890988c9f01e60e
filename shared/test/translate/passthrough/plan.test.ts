/**
 * The passthrough plan (OpenAI Chat caller, OpenAI-compatible upstream): what goes up, and what comes back for each
 * kind of answer (stream, whole JSON, non-2xx).
 */
import t from 'tap';
import { planTranslation, type PlanMeta, type UpstreamPlan } from '../../../src/translate/index.js';
import { MAX_WHOLE_ANSWER } from '../../../src/translate/passthrough/whole.js';
import { DONE, chunk, golden, usageChunk } from './support.js';

const DEPLOYMENT = 'team-vllm';
const UPSTREAM_MODEL = 'Qwen/Qwen2.5-7B-Instruct';

function plan(body: Record<string, unknown>, upstreamModel = UPSTREAM_MODEL): UpstreamPlan {
  const meta: PlanMeta = { rid: 'req_1', protocol: 'openai.chat', model: DEPLOYMENT, stream: body['stream'] === true };
  return planTranslation(meta, Buffer.from(JSON.stringify(body)), { kind: 'openai', model: upstreamModel });
}
const messages = [{ role: 'user', content: 'x' }];
/** What the caller sees of upstream chunks: every chunk's `model` is the deployment's name. */
const named = (sse: string): string => sse.replaceAll('"model":"Qwen/Qwen2.5"', `"model":"${DEPLOYMENT}"`);

t.test('a stream is asked for usage only when the caller did not ask; the caller still gets what it asked for', async (t) => {
  const unasked = plan({ model: DEPLOYMENT, stream: true, messages });
  t.same(JSON.parse(String(unasked.body)), { model: UPSTREAM_MODEL, stream: true, messages, stream_options: { include_usage: true } });
  const other = plan({ model: DEPLOYMENT, stream: true, messages, stream_options: { include_obfuscation: false } });
  t.same(JSON.parse(String(other.body)).stream_options, { include_obfuscation: false, include_usage: true }, "the caller's other options are kept");
  const asked = plan({ model: DEPLOYMENT, stream: true, messages, stream_options: { include_usage: true } });
  t.same(JSON.parse(String(asked.body)).stream_options, { include_usage: true });

  const upstream = chunk({ content: 'hi' }, null, { usage: null }) + chunk({}, 'stop', { usage: null }) + usageChunk(5, 2) + DONE;
  const usage = { input_tokens: 5, output_tokens: 2 };
  golden(t, () => unasked.translate(200, 'text/event-stream'), upstream, named(chunk({ content: 'hi' }) + chunk({}, 'stop') + DONE), usage);
  golden(t, () => asked.translate(200, 'text/event-stream'), upstream, named(upstream), usage);
});

t.test('an error event inside a 200 stream makes the answer an error outcome; an ordinary stream is none', async (t) => {
  const p = plan({ model: DEPLOYMENT, stream: true, messages });
  const failed = p.translate(200, 'text/event-stream');
  failed.push(Buffer.from(chunk({ content: 'par' }) + 'data: {"object":"error","message":"CUDA out of memory","code":500}\n\n'));
  failed.end();
  t.equal(failed.errorCode?.(), 'upstream_error', 'vLLM-style error event: upstream_error (End.error, outcome, usage status)');
  const ok = p.translate(200, 'text/event-stream');
  ok.push(Buffer.from(chunk({ content: 'the word "error" in text' }) + chunk({}, 'stop') + DONE));
  ok.end();
  t.equal(ok.errorCode?.(), undefined, 'no error event: ok');
});

t.test("answers name the deployment, not the upstream's model, streamed and whole", async (t) => {
  const upstream = chunk({ role: 'assistant', content: '' }) + chunk({ content: '"model": "x"' }) + chunk({}, 'stop') + usageChunk(3, 1) + DONE;
  const p = plan({ model: DEPLOYMENT, stream: true, messages, stream_options: { include_usage: true } });
  golden(t, () => p.translate(200, 'text/event-stream'), upstream, named(upstream), { input_tokens: 3, output_tokens: 1 });
  t.notMatch(named(upstream), /Qwen/, 'no chunk names the upstream model');
  t.match(named(upstream), /"content":"\\"model\\": \\"x\\""/, 'text that looks like a model member is not touched');

  const whole = { id: 'x', object: 'chat.completion', created: 1, model: 'Qwen/Qwen2.5', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
  const w = plan({ model: DEPLOYMENT, messages }).translate(200, 'application/json');
  w.push(Buffer.from(JSON.stringify(whole)));
  t.same(JSON.parse(w.end().toString()), { ...whole, model: DEPLOYMENT });

  // Same name on both sides: nothing to rewrite, the bytes are the upstream's.
  const same = plan({ model: DEPLOYMENT, stream: true, messages }, DEPLOYMENT);
  const own = upstream.replaceAll('Qwen/Qwen2.5', DEPLOYMENT);
  golden(t, () => same.translate(200, 'text/event-stream'), own, own.replace(usageChunk(3, 1).replaceAll('Qwen/Qwen2.5', DEPLOYMENT), ''), { input_tokens: 3, output_tokens: 1 });
});

t.test('no rename and not streamed: the bytes go up untouched, without a parse', async (t) => {
  const raw = Buffer.from(`{"model":"${DEPLOYMENT}" , "messages":[]}`);
  const p = planTranslation({ rid: 'r', protocol: 'openai.chat', model: DEPLOYMENT, stream: false }, raw, { kind: 'openai', model: DEPLOYMENT });
  t.equal(p.body, raw, 'the very same buffer');
});

t.test('a whole answer: held until complete, then byte for byte with its usage read; the head waits for it', async (t) => {
  const body = JSON.stringify({ id: 'x', object: 'chat.completion', choices: [], usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 } });
  const p = plan({ model: DEPLOYMENT, messages });
  t.equal(p.translate(200, 'application/json').headFirst, false);
  golden(t, () => p.translate(200, 'application/json'), body, body, { input_tokens: 5, output_tokens: 6 });
  const a = p.translate(200, 'application/json; charset=utf-8');
  a.push(Buffer.from(body));
  a.end();
  t.equal(a.status(), 200);
  t.equal(a.contentType, 'application/json; charset=utf-8', "the upstream's content type");
});

t.test('a non-2xx answer comes back in OpenAI shape, without the upstream model name', async (t) => {
  for (const stream of [false, true]) {
    const a = plan({ model: DEPLOYMENT, messages, stream }).translate(404, 'application/json');
    t.equal(a.headFirst, false, 'the status is known only once the body is read');
    a.push(Buffer.from('{"object":"error","message":"The model `Qwen/Qwen2.5-7B-Instruct` does not exist.","type":"NotFoundError","param":null,"code":404}'));
    const out = JSON.parse(a.end().toString()) as { error: { code: string; type: string; message: string } };
    t.equal(a.status(), 404);
    t.match(out, { error: { code: 'model_not_found', type: 'invalid_request_error' } });
    t.notMatch(out.error.message, /Qwen/);
  }
});

t.test('fail() mid-stream: an OpenAI error event', async (t) => {
  const a = plan({ model: DEPLOYMENT, messages, stream: true }).translate(200, 'text/event-stream');
  t.equal(a.fail({ code: 'upstream_error', message: 'model server stream failed: x' }), 'data: {"error":{"message":"model server stream failed: x","type":"server_error","param":null,"code":"upstream_error"}}\n\n');
});

t.test('other content types pass untouched', async (t) => {
  const a = plan({ model: DEPLOYMENT, messages }).translate(200, 'text/plain');
  const raw = Buffer.from('hello');
  t.equal(a.push(raw), raw);
});

t.test('a whole answer over the limit is refused with a clear error, not held without bound', async (t) => {
  const a = plan({ model: DEPLOYMENT, messages }).translate(200, 'application/json');
  t.equal(a.push(Buffer.alloc(MAX_WHOLE_ANSWER + 1, 0x20)).length, 0);
  t.match(JSON.parse(a.end().toString()), { error: { code: 'upstream_error', message: /larger than 64 MiB; ask for a stream/ } });
  t.equal(a.status(), 502);
  t.equal(a.contentType, 'application/json');
});

t.test('tool calls end with finish_reason "tool_calls", also when the server says "stop" (stream: a single choice, with tools)', async (t) => {
  const call = chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] });
  const upstream = call + chunk({}, 'stop') + DONE;
  const fixed = call + chunk({}, 'tool_calls') + DONE;
  const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
  const asked = { model: DEPLOYMENT, stream: true, messages, tools, stream_options: { include_usage: true } };
  golden(t, () => plan(asked).translate(200, 'text/event-stream'), upstream, named(fixed));
  golden(t, () => plan({ ...asked, n: 1 }).translate(200, 'text/event-stream'), upstream, named(fixed));
  golden(t, () => plan({ ...asked, n: 2 }).translate(200, 'text/event-stream'), upstream, named(upstream));
  golden(t, () => plan({ ...asked, tools: undefined }).translate(200, 'text/event-stream'), upstream, named(upstream), undefined);

  const message = (calls: unknown[] | undefined, finish: string) => ({ index: 0, message: { role: 'assistant', content: null, ...(calls ? { tool_calls: calls } : {}) }, finish_reason: finish });
  const calls = [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }];
  const whole = { id: 'x', object: 'chat.completion', choices: [message(calls, 'stop'), { ...message(undefined, 'stop'), index: 1 }, { ...message(calls, 'length'), index: 2 }] };
  const expected = { ...whole, choices: [message(calls, 'tool_calls'), whole.choices[1], whole.choices[2]] };
  golden(t, () => plan({ model: DEPLOYMENT, messages }).translate(200, 'application/json'), JSON.stringify(whole), JSON.stringify(expected));
  const right = JSON.stringify({ ...whole, choices: [message(calls, 'tool_calls')] }).replace('{', '{ ');
  golden(t, () => plan({ model: DEPLOYMENT, messages }).translate(200, 'application/json'), right, right, undefined);
});
