/**
 * Golden vectors for the OpenAI Chat passthrough filter (found end to end: a vLLM `{"object":"error"}` event reached
 * the openai SDK as a chunk without `choices`, so the caller's loop crashed instead of the SDK raising the error).
 */
import t, { type Test } from 'tap';
import { PassthroughStreamFilter } from '../../src/translate/passthrough.js';
import { chunkings } from '../codec/feed.js';

function run(chunks: Uint8Array[]): string {
  const f = new PassthroughStreamFilter();
  let out = '';
  for (const c of chunks) out += f.push(c).toString();
  return out + f.end().toString();
}

function golden(t: Test, input: string, expected: string): void {
  let bad = 0;
  for (const { name, chunks } of chunkings(input)) {
    const got = run(chunks);
    if (got !== expected && bad++ === 0) t.equal(got, expected, name);
  }
  t.equal(bad, 0, 'same bytes for every chunking');
}

const chunk = (content: string) => `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}\n\n`;

t.test('ordinary chunks pass byte for byte, including content that mentions "error"', async (t) => {
  const input = chunk('no') + chunk('"error" is just a word') + 'data: [DONE]\n\n';
  golden(t, input, input);
});

t.test('chunks are forwarded whole-line: nothing is held past a newline, a partial line waits', async (t) => {
  const f = new PassthroughStreamFilter();
  t.equal(f.push(Buffer.from('data: {"a":1}\n\nda')).toString(), 'data: {"a":1}\n\n');
  t.equal(f.push(Buffer.from('ta: [DONE]')).toString(), '');
  t.equal(f.end().toString(), 'data: [DONE]');
});

t.test("vLLM's in-stream {object:error} becomes OpenAI's {error:{…}}", async (t) => {
  const input = chunk('par') + 'data: {"object":"error","message":"CUDA out of\\nmemory","type":"InternalServerError","param":null,"code":500}\n\n';
  golden(
    t,
    input,
    chunk('par') + 'data: {"error":{"message":"The model server failed: CUDA out of memory","type":"server_error","param":null,"code":"upstream_error"}}\n\n',
  );
});

t.test("an upstream {error:{…}} is put in Tokios' wording too; CRLF line ends are kept", async (t) => {
  golden(
    t,
    'data: {"error":{"message":"boom","type":"x"}}\r\n\r\n',
    'data: {"error":{"message":"The model server failed: boom","type":"server_error","param":null,"code":"upstream_error"}}\r\n\r\n',
  );
});
