import t from 'tap';
import type { RequestMeta } from '@tokios/shared/protocol';
import { SseUsageFilter } from '../src/sse-usage-filter.js';
import { meterPassthrough } from '../src/usage-meter.js';
import { passthroughTranslator, type UpstreamPlan } from '../src/plan.js';

const chunk = (o: Record<string, unknown>) => `data: ${JSON.stringify(o)}\n\n`;
const base = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', system_fingerprint: null };
const withUsageNull = (delta: Record<string, unknown>, finish: string | null) =>
  chunk({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null });
const plain = (delta: Record<string, unknown>, finish: string | null) =>
  chunk({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
const usageChunk = chunk({ ...base, choices: [], usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 } });

const run = (f: SseUsageFilter, text: string, cut: number[]): string => {
  const buf = Buffer.from(text);
  let out = '';
  let at = 0;
  for (const c of [...cut, buf.length]) {
    out += f.push(buf.subarray(at, c)).toString();
    at = c;
  }
  return out + f.end();
};

t.test('strip: the caller gets the stream without usage, as if it had not been asked for', async (t) => {
  const upstream = withUsageNull({ role: 'assistant', content: '' }, null) + withUsageNull({ content: 'héllo' }, null) + withUsageNull({}, 'stop') + usageChunk + 'data: [DONE]\n\n';
  const expected = plain({ role: 'assistant', content: '' }, null) + plain({ content: 'héllo' }, null) + plain({}, 'stop') + 'data: [DONE]\n\n';
  const bytes = Buffer.from(upstream);
  // every split point, including inside the multi-byte "é"
  for (let cut = 1; cut < bytes.length; cut += 7) {
    const f = new SseUsageFilter(true);
    t.equal(run(f, upstream, [cut]), expected, `split at ${cut}`);
    t.same(f.usage, { input_tokens: 11, output_tokens: 3 });
  }
  const f = new SseUsageFilter(true);
  t.equal(run(f, upstream, []), expected, 'one read');
});

t.test('sniff: bytes untouched, the last usage wins', async (t) => {
  const upstream = withUsageNull({ content: 'x' }, null) + usageChunk + 'data: [DONE]\n\n';
  const f = new SseUsageFilter(false);
  t.equal(run(f, upstream, [10, 200]), upstream);
  t.same(f.usage, { input_tokens: 11, output_tokens: 3 });
});

t.test('strip keeps usage carried on a content chunk but removes it from that chunk; CRLF and spaced JSON', async (t) => {
  const f = new SseUsageFilter(true);
  const text = 'data: {"id":"a","choices":[{"delta":{"content":"x"}}], "usage" : null}\r\n\r\n' + 'data: {"usage": null, "id":"b","choices":[]}\n\n' + 'data: {"id":"c","choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1}}\n\n';
  t.equal(run(f, text, []), 'data: {"id":"a","choices":[{"delta":{"content":"x"}}]}\r\n\r\n' + 'data: {"id":"b","choices":[]}\n\n' + 'data: {"id":"c","choices":[{"delta":{},"finish_reason":"stop"}]}\n\n');
  t.same(f.usage, { input_tokens: 2, output_tokens: 1 });
});

t.test('content that mentions usage is never touched', async (t) => {
  const f = new SseUsageFilter(true);
  const text = plain({ content: 'the "usage":null, field {"usage":null,' }, null);
  t.equal(run(f, text, []), text);
});

const meta = (stream: boolean): RequestMeta => ({ rid: 'r', protocol: 'openai.chat', model: 'm', stream, bodyLength: 0, deadline: Date.now() + 1000 });
const plan = (body: unknown): UpstreamPlan => ({ passthrough: true, path: '/v1/chat/completions', body: JSON.stringify(body), headers: {}, translate: passthroughTranslator });

t.test('meterPassthrough asks for usage only when the caller did not', async (t) => {
  const p1 = meterPassthrough(meta(true), plan({ model: 'm', stream: true, messages: [] }));
  t.same(JSON.parse(String(p1.body)).stream_options, { include_usage: true });
  const asked = plan({ model: 'm', stream: true, stream_options: { include_usage: true }, messages: [] });
  t.equal(meterPassthrough(meta(true), asked).body, asked.body, 'asked: body untouched');
  const p3 = meterPassthrough(meta(false), plan({ model: 'm', messages: [] }));
  const tr = p3.translate(200, 'application/json');
  const body = JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 } });
  t.equal(String(tr.push(Buffer.from(body.slice(0, 10)))) + String(tr.push(Buffer.from(body.slice(10)))) + String(tr.end()), body);
  t.same(tr.usage(), { input_tokens: 5, output_tokens: 6 });
  const other: UpstreamPlan = { ...plan({}), passthrough: false };
  t.equal(meterPassthrough(meta(true), other), other, 'translated plans are left alone');
});

t.test('strip: text that mentions usage and spaced members come out the same as unasked-for streams', async (t) => {
  const spaced = (delta: Record<string, unknown>) =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] }).replace(/\}$/, ', "usage": null}')}\n\n`;
  const quoted = { content: 'the "usage" field and ,"usage":null} as text' };
  const upstream = withUsageNull(quoted, null) + spaced({ content: 'x' }) + withUsageNull({ content: '"usage"' }, null) + usageChunk + 'data: [DONE]\n\n';
  const expected = plain(quoted, null) + `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: 'x' }, logprobs: null, finish_reason: null }] })}\n\n` + plain({ content: '"usage"' }, null) + 'data: [DONE]\n\n';
  for (let cut = 1; cut < upstream.length; cut += 11) {
    const f = new SseUsageFilter(true);
    t.equal(run(f, upstream, [cut]), expected, `split at ${cut}`);
  }
  const f = new SseUsageFilter(true);
  t.equal(run(f, upstream, []), expected, 'one read');
  t.same(f.usage, { input_tokens: 11, output_tokens: 3 });
});
