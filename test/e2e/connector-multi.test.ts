/**
 * One connector process serving several deployments from one model server (`"deployments": [...]` in tokios.json):
 * each deployment with its own token, model and concurrency cap, one probe and health loop, and a warning at start
 * for a configured model the server does not list. Real chain: nats-server, tokios dev, the connector process, the
 * official openai SDK, a scripted Ollama.
 */
import t from 'tap';
import OpenAI from 'openai';
import { getGlobalDispatcher } from 'undici';
import { OllamaUpstream, defaultOllamaScript, startConnectorProc, startDevStack, type DevStack, type Proc, type SeenRequest } from '../support/index.js';

const CODER = 'coder';
const EMBED = 'embed';
const TYPO = 'typo';

let stack: DevStack;
let ollama: OllamaUpstream;
let proc: Proc;

t.before(async () => {
  stack = await startDevStack([CODER, EMBED, TYPO]);
  ollama = await OllamaUpstream.start(['qwen2.5-coder:7b', 'nomic-embed-text:latest']);
  const token = (name: string) => stack.seeded.deployments[name]!.token;
  proc = await startConnectorProc(
    {
      upstream: ollama.url,
      gateway: stack.gateway,
      tunnels: 1,
      deployments: [
        { tunnel_token: token(CODER), model: 'qwen2.5-coder:7b', max_concurrency: 1 },
        { tunnel_token: token(EMBED), model: 'nomic-embed-text', max_concurrency: 4 },
        { tunnel_token: token(TYPO), model: 'qwen2.5-codr:7b' },
      ],
    } as never,
    {},
    false,
  );
  for (const name of [CODER, EMBED, TYPO]) await proc.waitFor(new RegExp(`Tunnel established \\(deployment "${name}"`), 60_000);
  await proc.waitFor(/is not in the model server's list/, 10_000);
});
t.teardown(async () => {
  await getGlobalDispatcher().destroy();
  await proc?.kill();
  await ollama?.close();
  await stack?.close();
});

const openai = () => new OpenAI({ apiKey: stack.seeded.apiKey, baseURL: stack.baseURL, maxRetries: 0 });

t.test('one probe for all deployments; the unlisted model is named in a warning', async (t) => {
  t.equal(proc.output.match(/"msg":"upstream speaks Ollama"/g)?.length, 1, 'the model server was probed once');
  const warning = proc.output.split('\n').find((l) => l.includes("is not in the model server's list"));
  t.match(JSON.parse(warning!), { level: 40, deployment: 2, model: 'qwen2.5-codr:7b', models: ['qwen2.5-coder:7b', 'nomic-embed-text:latest'] });
  t.notMatch(proc.output, /qwen2\.5-coder:7b" is not|nomic-embed-text" is not/, 'the listed models get no warning');
});

t.test('each deployment asks the model server for its own model', async (t) => {
  const chat = await openai().chat.completions.create({ model: CODER, messages: [{ role: 'user', content: 'hi' }] });
  t.equal(chat.model, CODER);
  t.equal(ollama.last.body.model, 'qwen2.5-coder:7b');
  const emb = await openai().embeddings.create({ model: EMBED, input: 'hello', encoding_format: 'float' });
  t.equal(emb.data.length, 1);
  t.equal(ollama.last.body.model, 'nomic-embed-text');
  const typo = await openai().chat.completions.create({ model: TYPO, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
  t.ok(typo instanceof OpenAI.NotFoundError, 'the unlisted model fails as the server answers it (404 model_not_found)');
});

t.test('caps are per deployment: the coder (cap 1) runs one at a time while the embedder still answers', async (t) => {
  const active = new Map<string, number>();
  const peak = new Map<string, number>();
  const model = (s: SeenRequest) => String(s.body.model);
  const onRequest = (s: SeenRequest) => {
    active.set(model(s), (active.get(model(s)) ?? 0) + 1);
    peak.set(model(s), Math.max(peak.get(model(s)) ?? 0, active.get(model(s))!));
  };
  const onDone = (s: SeenRequest) => active.set(model(s), active.get(model(s))! - 1);
  ollama.on('request', onRequest);
  ollama.on('finished', onDone);
  ollama.on('aborted', onDone);
  t.teardown(() => {
    ollama.off('request', onRequest);
    ollama.off('finished', onDone);
    ollama.off('aborted', onDone);
    ollama.script = () => defaultOllamaScript();
  });
  // The first coder call holds the coder's only slot until the embedding call has been answered.
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let calls = 0;
  ollama.script = () => (calls++ === 0 ? { ...defaultOllamaScript(), hold: released } : defaultOllamaScript());
  const firstSeen = ollama.next('request');
  const first = openai().chat.completions.create({ model: CODER, messages: [{ role: 'user', content: 'one' }], stream: true });
  await firstSeen;
  const second = openai().chat.completions.create({ model: CODER, messages: [{ role: 'user', content: 'two' }] });
  const emb = await openai().embeddings.create({ model: EMBED, input: 'while the coder is busy', encoding_format: 'float' });
  t.equal(emb.data.length, 1, 'the embedder answered while the coder was at its cap');
  t.equal(active.get('qwen2.5-coder:7b'), 1, 'the second coder call is still waiting in the gateway, not at the model server');
  release();
  const stream = await first;
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  t.equal(text, 'Hello, world!');
  t.equal((await second).choices[0]?.message.content, 'Hello, world!', 'the second coder call waited for the slot');
  t.equal(peak.get('qwen2.5-coder:7b'), 1, 'never two coder requests at the model server at once');
});
