/**
 * The golden corpus (test/fixtures/clients: what Claude Code, Codex, opencode, Qwen Code, the AI SDK and LangChain
 * really send) replayed through the real chain to both upstream kinds: every request is accepted, the fields that had
 * no effect come back in `tokios-ignored` (names only), and tool-result images reach the model server.
 */
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OLLAMA_DEP, OPENAI_DEP, ROOT, defaultScript, startTranslateStack, type TranslateStack } from '../support/index.js';
import type { Fixture, FixtureRequest } from '../agents/fixture.js';

const CORPUS = join(ROOT, 'test', 'fixtures', 'clients');
/** Recorded headers that describe the recording connection, not the request. */
const SKIPPED_HEADERS = new Set(['authorization', 'x-api-key', 'accept-encoding']);

let s: TranslateStack;
t.before(async () => {
  s = await startTranslateStack();
});
t.teardown(() => s?.close());

async function corpus(): Promise<Array<{ name: string; fixture: Fixture }>> {
  const out: Array<{ name: string; fixture: Fixture }> = [];
  for (const folder of (await readdir(CORPUS, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    for (const file of (await readdir(join(CORPUS, folder.name))).sort()) {
      out.push({ name: `${folder.name}/${file}`, fixture: JSON.parse(await readFile(join(CORPUS, folder.name, file), 'utf8')) as Fixture });
    }
  }
  return out;
}

/** The recorded request, sent to `deployment` with this stack's key, as its client sent it otherwise. */
async function replay(r: FixtureRequest, deployment: string): Promise<{ status: number; ignored: string | null; body: string }> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (!SKIPPED_HEADERS.has(k)) headers[k] = v;
  if (r.headers['x-api-key'] !== undefined) headers['x-api-key'] = s.apiKey;
  else headers['authorization'] = `Bearer ${s.apiKey}`;
  const body = { ...(r.body as Record<string, unknown>), model: deployment };
  const res = await fetch(`${s.origin}${r.path}`, { method: r.method, headers, body: JSON.stringify(body) });
  return { status: res.status, ignored: res.headers.get('tokios-ignored'), body: await res.text() };
}

t.test('every corpus request is accepted on both upstream kinds', async (t) => {
  const files = await corpus();
  t.ok(files.length >= 31, `${files.length} fixtures`);
  for (const { name, fixture } of files) {
    for (const deployment of [OLLAMA_DEP, OPENAI_DEP]) {
      for (const [i, r] of fixture.requests.entries()) {
        if (r.method !== 'POST') continue;
        const got = await replay(r, deployment);
        t.equal(got.status, 200, `${name} #${i} -> ${deployment}: ${got.status === 200 ? 'accepted' : got.body.slice(0, 300)}`);
        const passthrough = fixture.protocol === 'openai-chat' && deployment === OPENAI_DEP;
        if (passthrough) t.equal(got.ignored, null, `${name} #${i}: passthrough ignores nothing`);
        if (fixture.client.startsWith('claude-code')) t.match(got.ignored, /context_management/, `${name} #${i}: ignored fields reported`);
        if (fixture.client.startsWith('codex')) t.match(got.ignored, /client_metadata.*tools:web_search/, `${name} #${i}: ignored fields and dropped tools reported`);
      }
    }
  }
});

t.test('tool-result images reach Ollama as images on the tool message, OpenAI-compatible servers as content parts', async (t) => {
  for (const name of ['anthropic-messages/claude-code@2.1.332.tool-image.json', 'openai-responses/codex@0.171.0.tool-image.json']) {
    const fixture = JSON.parse(await readFile(join(CORPUS, name), 'utf8')) as Fixture;
    const last = fixture.requests.at(-1)!;
    await replay(last, OLLAMA_DEP);
    const toOllama = s.ollama.requests.at(-1)!.body.messages as Array<{ role: string; images?: string[] }>;
    const tool = toOllama.find((m) => m.role === 'tool' && m.images !== undefined);
    t.ok(tool?.images?.[0]?.startsWith('iVBORw0KGgo'), `${name}: base64 PNG on Ollama's tool message`);
    await replay(last, OPENAI_DEP);
    const toOpenAI = s.openai.requests.at(-1)!.body.messages as Array<{ role: string; content: unknown }>;
    const parts = toOpenAI.find((m) => m.role === 'tool' && Array.isArray(m.content))?.content as Array<{ type: string; image_url?: { url: string } }> | undefined;
    t.match(parts?.find((p) => p.type === 'image_url')?.image_url?.url, /^data:image\/png;base64,iVBORw0KGgo/, `${name}: image_url part on the tool message`);
  }
});

t.test('Codex namespace tools: the model sees flat functions, the client gets its namespace back', async (t) => {
  const fixture = JSON.parse(await readFile(join(CORPUS, 'openai-responses/codex@0.171.0.text.json'), 'utf8')) as Fixture;
  const first = fixture.requests[0]!;
  s.openai.script = () => ({ ...defaultScript(), finishReason: 'tool_calls', toolCalls: [{ id: 'call_1', name: 'multi_agent_v1__close_agent', arguments: '{"target":"a1"}' }] });
  try {
    const got = await replay(first, OPENAI_DEP);
    t.equal(got.status, 200);
    const sent = s.openai.requests.at(-1)!.body.tools as Array<{ function: { name: string } }>;
    t.ok(sent.some((x) => x.function.name === 'multi_agent_v1__close_agent'), 'flattened name sent upstream');
    t.notOk(sent.some((x) => x.function.name === 'web_search'), 'hosted web_search not sent');
    const done = got.body.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { type: string; item?: Record<string, unknown> })
      .find((e) => e.type === 'response.output_item.done' && e.item?.type === 'function_call');
    t.match(done?.item, { name: 'close_agent', namespace: 'multi_agent_v1' }, 'the call carries the namespace and the inner name');
  } finally {
    s.openai.script = () => defaultScript();
  }
});
