/**
 * The k6 scripts in loadtest/ (k6 cannot run here): their pure helpers (loadtest/lib/tokios.js) run under Node on
 * real answer shapes, and the scripts are checked statically for what makes a load test's figures honest.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../support/index.js';

interface Watch {
  onEvent(name: string | undefined, data: string, now: number): void;
  readonly ttftMs: number | undefined;
  readonly ok: boolean;
  readonly done: boolean;
  error: string | undefined;
}
interface LoadtestLib {
  apiBase(raw: string | undefined): string;
  jsonOf(body: unknown): unknown;
  chatAnswerOk(status: number, body: unknown): boolean;
  messagesAnswerOk(status: number, body: unknown): boolean;
  requestBody(o: { model: string; stream: boolean; maxTokens: number }): string;
  StreamWatch: new (protocol: string, startedAt: number) => Watch;
  parseSse(text: string): { name: string | undefined; data: string }[];
  intOption(env: Record<string, string | undefined>, name: string, fallback: number): number;
  requiredOption(env: Record<string, string | undefined>, name: string): string;
}

const LOADTEST = join(ROOT, 'loadtest');
const lib = (await import(pathToFileURL(join(LOADTEST, 'lib/tokios.js')).href)) as LoadtestLib;
const SCRIPTS = { 'chat.js': 'openai', 'anthropic.js': 'anthropic' } as const;
const source = (f: string): string => readFileSync(join(LOADTEST, f), 'utf8');

/** Feeds a raw SSE body to a StreamWatch, one event per millisecond after a 40 ms wait for the first. */
function watchStream(protocol: string, sse: string): Watch {
  const w = new lib.StreamWatch(protocol, 1_000);
  lib.parseSse(sse).forEach((e, i) => w.onEvent(e.name, e.data, 1_040 + i));
  return w;
}

const OPENAI_STREAM =
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n' +
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n' +
  ': keep-alive\n\n' +
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
  'data: [DONE]\n\n';
const ANTHROPIC_STREAM =
  'event: message_start\ndata: {"type":"message_start","message":{"id":"m1","type":"message","role":"assistant","content":[]}}\n\n' +
  'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n' +
  'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}\n\n' +
  'event: message_stop\ndata: {"type":"message_stop"}\n\n';

t.test('BASE_URL with or without /v1 gives the same API base', async (t) => {
  for (const [raw, want] of [
    ['https://api.example.com', 'https://api.example.com/v1'],
    ['https://api.example.com/', 'https://api.example.com/v1'],
    ['https://api.example.com/v1', 'https://api.example.com/v1'],
    ['https://api.example.com/v1/', 'https://api.example.com/v1'],
    ['HTTP://127.0.0.1:8080', 'http://127.0.0.1:8080/v1'],
    ['https://host/tokios', 'https://host/tokios/v1'],
    [undefined, 'http://127.0.0.1:8080/v1'],
  ] as const) {
    t.equal(lib.apiBase(raw), want, String(raw));
  }
  for (const bad of ['api.example.com', 'ftp://host', 'https://', 'https://host/v1?x=1']) {
    t.throws(() => lib.apiBase(bad), /BASE_URL must be an http\(s\) URL/, bad);
  }
});

t.test('a body that is not JSON is a failed request, not a script error', async (t) => {
  const html = '<html><body><h1>502 Bad Gateway</h1></body></html>';
  t.equal(lib.jsonOf(html), undefined);
  t.equal(lib.jsonOf(''), undefined);
  t.equal(lib.jsonOf(null), undefined);
  t.equal(lib.chatAnswerOk(502, html), false);
  t.equal(lib.chatAnswerOk(200, html), false, 'a 200 whose body is a proxy page');
  t.equal(lib.chatAnswerOk(200, '{"choices":[]}'), false);
  t.equal(lib.chatAnswerOk(200, '{"choices":[{"message":{"role":"assistant","content":"Hi"}}]}'), true);
  t.equal(lib.messagesAnswerOk(200, html), false);
  t.equal(lib.messagesAnswerOk(200, '{"type":"error","error":{"type":"overloaded_error"}}'), false);
  t.equal(lib.messagesAnswerOk(200, '{"type":"message","content":[{"type":"text","text":"Hi"}]}'), true);
  t.equal(lib.messagesAnswerOk(529, '{"type":"message","content":[]}'), false);
});

t.test('OpenAI streams: TTFT at the first data event, complete only at [DONE]', async (t) => {
  const w = watchStream('openai', OPENAI_STREAM);
  t.equal(w.ttftMs, 40, 'from the start to the first data event (the keep-alive comment is no event)');
  t.equal(w.ok, true);
  const cut = watchStream('openai', OPENAI_STREAM.slice(0, OPENAI_STREAM.indexOf('data: [DONE]')));
  t.equal(cut.ok, false, 'a stream cut before [DONE] failed');
  const errored = watchStream('openai', 'data: {"choices":[{"delta":{"content":"H"}}]}\n\ndata: {"error":{"message":"model crashed","type":"server_error","code":"upstream_error"}}\n\ndata: [DONE]\n\n');
  t.equal(errored.ok, false, 'an in-stream error chunk fails it even with [DONE] after it');
  t.match(errored.error, /server_error/);
  t.equal(watchStream('openai', '').ttftMs, undefined, 'no event, no TTFT sample');
});

t.test('Anthropic streams: complete only at message_stop, error events fail', async (t) => {
  const w = watchStream('anthropic', ANTHROPIC_STREAM);
  t.equal(w.ok, true);
  t.equal(w.ttftMs, 40);
  t.equal(watchStream('anthropic', ANTHROPIC_STREAM.replace(/event: message_stop[^]*$/, '')).ok, false, 'no message_stop');
  const errored = watchStream('anthropic', ANTHROPIC_STREAM.replace('event: message_delta', 'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"x"}}\n\nevent: message_delta'));
  t.equal(errored.ok, false);
  t.match(errored.error, /api_error/);
  // A client that surfaces only the data: the JSON's type says the same.
  const unnamed = new lib.StreamWatch('anthropic', 0);
  for (const e of lib.parseSse(ANTHROPIC_STREAM)) unnamed.onEvent(undefined, e.data, 1);
  t.equal(unnamed.ok, true);
  t.throws(() => new lib.StreamWatch('grpc', 0), /protocol must be openai or anthropic/);
});

t.test('SSE parsing: CRLF, comments, multi-line data', async (t) => {
  t.same(lib.parseSse('event: a\r\ndata: 1\r\ndata: 2\r\n\r\n: comment\n\ndata:x\n\n'), [
    { name: 'a', data: '1\n2' },
    { name: undefined, data: 'x' },
  ]);
});

t.test('options: numbers and required values are checked, naming the option', async (t) => {
  t.equal(lib.intOption({}, 'VUS', 16), 16);
  t.equal(lib.intOption({ VUS: '32' }, 'VUS', 16), 32);
  t.throws(() => lib.intOption({ VUS: 'many' }, 'VUS', 16), /VUS must be a positive integer/);
  t.throws(() => lib.intOption({ MAX_TOKENS: '0' }, 'MAX_TOKENS', 64), /MAX_TOKENS/);
  t.throws(() => lib.requiredOption({}, 'API_KEY'), /API_KEY is required/);
  t.same(JSON.parse(lib.requestBody({ model: 'llama3', stream: true, maxTokens: 8 })), {
    model: 'llama3',
    stream: true,
    max_tokens: 8,
    messages: [{ role: 'user', content: 'Say hello in five words.' }],
  });
});

t.test('the scripts parse and count failures, TTFT and BASE_URL the honest way', async (t) => {
  const readme = source('README.md');
  for (const [file, protocol] of Object.entries(SCRIPTS)) {
    const src = source(file);
    const check = spawnSync(process.execPath, ['--check', join(LOADTEST, file)], { encoding: 'utf8' });
    t.equal(check.status, 0, `${file} parses: ${check.stderr}`);
    t.match(src, /from '\.\/lib\/tokios\.js'/, `${file} uses the shared helpers`);
    t.match(src, /const BASE = apiBase\(__ENV\.BASE_URL\)/, `${file}: BASE_URL with or without /v1`);
    t.notMatch(src, /\$\{BASE\}\/v1\//, `${file}: no second /v1 after the API base`);
    t.match(src, /http_req_failed: \['rate</, `${file}: http_req_failed threshold`);
    t.match(src, /tokios_failed: \['rate</, `${file}: threshold on every counted failure`);
    t.notMatch(src, /\.json\(/, `${file}: no unguarded response.json() (throws on a non-JSON body)`);
    t.notMatch(src, /timings\.waiting/, `${file}: time to first token is not time to the headers`);
    t.match(src, /sse\.open\(/, `${file}: streams are read event by event`);
    t.match(src, new RegExp(`new StreamWatch\\('${protocol}'`), `${file}: stream completion by the ${protocol} rules`);
    t.match(src, /failed\.add\(!ok\)/, `${file}: every request adds to tokios_failed`);
    for (const m of src.matchAll(/__ENV\.([A-Z_]+)|Option\(__ENV, '([A-Z_]+)'/g)) {
      const name = m[1] ?? m[2]!;
      t.match(readme, new RegExp(`\`${name}\``), `${file}: ${name} is documented in loadtest/README.md`);
    }
  }
});
