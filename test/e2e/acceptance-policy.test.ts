/**
 * The acceptance policy of docs/protocols.md, enforced: every row's example, merged into a minimal request, goes
 * through the real chain to an Ollama and an OpenAI-compatible deployment, and the outcome is the table's:
 * honoured / mapped -> accepted and not reported; ignored / dropped -> accepted and named in `tokios-ignored`;
 * rejected -> 400 naming the field in the caller's error shape. OpenAI Chat to an OpenAI-compatible server is
 * passthrough: accepted, nothing reported.
 */
import t, { type Test } from 'tap';
import { OLLAMA_DEP, OPENAI_DEP, startTranslateStack, type TranslateStack } from '../support/index.js';
import { readPolicyTables, type Outcome, type PolicyRow, type PolicyTables } from '../support/policy-table.js';

type Api = keyof PolicyTables;

const ROUTES = {
  anthropic: { path: '/v1/messages', base: { max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } },
  responses: { path: '/v1/responses', base: { input: 'hi' } },
  chat: { path: '/v1/chat/completions', base: { messages: [{ role: 'user', content: 'hi' }] } },
} as const satisfies Record<Api, { path: string; base: Record<string, unknown> }>;

let s: TranslateStack;
t.before(async () => {
  s = await startTranslateStack();
});
t.teardown(() => s?.close());

async function send(api: Api, deployment: string, example: Record<string, unknown>): Promise<{ status: number; ignored: string[]; body: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (api === 'anthropic') Object.assign(headers, { 'x-api-key': s.apiKey, 'anthropic-version': '2023-06-01' });
  else headers['authorization'] = `Bearer ${s.apiKey}`;
  const body = { ...ROUTES[api].base, ...example, model: deployment };
  const res = await fetch(`${s.origin}${ROUTES[api].path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const ignored = res.headers.get('tokios-ignored');
  return { status: res.status, ignored: ignored === null ? [] : ignored.split(', '), body: await res.text() };
}

/** The name a 400 must carry: a dropped-type row (`tools:custom`) is refused on its `.type`. */
function refusedName(field: string): string {
  return field.replace(/:.*$/, '.type');
}

/** The error's message and param with array indices taken out (`tools[0].type` -> `tools.type`). */
function errorNames(body: string): string {
  const parsed = JSON.parse(body) as { error?: { message?: string; param?: string | null } };
  return `${parsed.error?.param ?? ''} ${parsed.error?.message ?? ''}`.replace(/\[\d+\]/g, '');
}

function check(t: Test, api: Api, row: PolicyRow, expected: Outcome | 'passthrough', got: Awaited<ReturnType<typeof send>>, upstreamSpecific: boolean): void {
  const what = `${api} ${row.field}: ${expected}`;
  switch (expected) {
    case 'passthrough':
      t.equal(got.status, 200, `${what} (${got.body.slice(0, 200)})`);
      t.same(got.ignored, [], `${what}: nothing reported`);
      return;
    case 'honoured':
    case 'mapped':
      t.equal(got.status, 200, `${what} (${got.body.slice(0, 200)})`);
      t.notOk(got.ignored.includes(row.field), `${what}: not reported as ignored`);
      return;
    case 'ignored':
    case 'dropped':
      t.equal(got.status, 200, `${what} (${got.body.slice(0, 200)})`);
      t.ok(got.ignored.includes(row.field), `${what}: in tokios-ignored (${got.ignored.join(', ')})`);
      return;
    case 'rejected':
      t.equal(got.status, 400, `${what} (${got.body.slice(0, 200)})`);
      t.match(JSON.parse(got.body), api === 'anthropic' ? { type: 'error', error: { type: 'invalid_request_error' } } : { error: { type: 'invalid_request_error' } }, `${what}: the caller's error shape`);
      // An upstream's own limit names the pivot's field; the caller-side rules name the caller's.
      if (!upstreamSpecific) t.match(errorNames(got.body), refusedName(row.field), `${what}: the field is named`);
  }
}

t.test('docs/protocols.md: every policy row holds on both upstream kinds', async (t) => {
  const tables = await readPolicyTables();
  t.ok(tables.anthropic.length >= 40 && tables.responses.length >= 40 && tables.chat.length >= 35, 'the tables cover each API');
  for (const api of Object.keys(ROUTES) as Api[]) {
    for (const row of tables[api]) {
      for (const [deployment, kind] of [[OLLAMA_DEP, 'ollama'], [OPENAI_DEP, 'openai']] as const) {
        const expected = api === 'chat' && kind === 'openai' ? 'passthrough' : row[kind];
        const got = await send(api, deployment, row.example);
        check(t, api, row, expected, got, row.openai !== row.ollama);
      }
    }
  }
});
