/**
 * The connector's per-chunk answer path in isolation (no network), through the same seam the connector calls
 * (planTranslation → translate → push per upstream chunk, as the HTTP parser hands them over), the output turned into
 * bytes like the connector does. Prints CPU µs per chunk (best of several rounds), steadier than the full bench:
 *
 *  - translate: Ollama /api/chat NDJSON in, Anthropic Messages SSE out;
 *  - passthrough: OpenAI Chat in, OpenAI-compatible SSE out, the usage the caller did not ask for stripped (as in the
 *    bench), once with the model renamed for the upstream and once without, and once with the caller asking for usage.
 *
 *   node bench/dist/micro-translate.js [streams=400]
 */
import { createHash } from 'node:crypto';
import { planTranslation, type PlanMeta, type UpstreamTarget } from '@tokios/shared/translate';

const STREAMS = Number(process.argv[2] ?? 400);
const CHUNKS = 1024;
const ROUNDS = 7;

const at = '2025-11-21T20:18:11.030123456Z';
const ollama: Buffer[] = [];
for (let i = 0; i < CHUNKS; i++) {
  ollama.push(Buffer.from(`{"model":"bench-upstream:latest","created_at":"${at}","message":{"role":"assistant","content":"tok${i % 10} "},"done":false}\n`));
}
ollama.push(
  Buffer.from(
    `{"model":"bench-upstream:latest","created_at":"${at}","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":1,"load_duration":1,"prompt_eval_count":9,"prompt_eval_duration":1,"eval_count":${CHUNKS},"eval_duration":1}\n`,
  ),
);

/** What bench/lib/upstream.ts streams for an OpenAI Chat request asked for usage. */
const head = `data: {"id":"chatcmpl-0000abcd","object":"chat.completion.chunk","created":1763755091,"model":"bench-upstream","system_fingerprint":null,"choices":[{"index":0,"delta":`;
const tail = `,"logprobs":null,"finish_reason":null}],"usage":null}\n\n`;
const openai: Buffer[] = [Buffer.from(`${head}{"role":"assistant","content":""}${tail}`)];
for (let i = 0; i < CHUNKS; i++) openai.push(Buffer.from(`${head}{"content":"tok${i % 10} "}${tail}`));
openai.push(
  Buffer.from(
    `${head}{}${tail.replace('"finish_reason":null', '"finish_reason":"stop"')}` +
      `${head.slice(0, head.indexOf('"choices"'))}"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":${CHUNKS},"total_tokens":${CHUNKS + 9}}}\n\ndata: [DONE]\n\n`,
  ),
);

interface Case {
  name: string;
  meta: PlanMeta;
  body: Buffer;
  upstream: UpstreamTarget;
  contentType: string;
  lines: Buffer[];
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const messages = [{ role: 'user', content: 'Count.' }];
const cases: Case[] = [
  {
    name: 'translate Ollama NDJSON -> Anthropic SSE',
    meta: { rid: 'r0', protocol: 'anthropic.messages', model: 'bench-ollama', stream: true },
    body: json({ model: 'bench-ollama', max_tokens: CHUNKS, stream: true, messages }),
    upstream: { kind: 'ollama', model: 'bench-upstream:latest' },
    contentType: 'application/x-ndjson',
    lines: ollama,
  },
  ...[
    { name: 'passthrough OpenAI SSE, model renamed, usage stripped', deployment: 'bench-model', options: {} },
    { name: 'passthrough OpenAI SSE, same model, usage stripped', deployment: 'bench-upstream', options: {} },
    { name: 'passthrough OpenAI SSE, same model, usage asked', deployment: 'bench-upstream', options: { stream_options: { include_usage: true } } },
  ].map(
    (c): Case => ({
      name: c.name,
      meta: { rid: 'req_1', protocol: 'openai.chat', model: c.deployment, stream: true },
      body: json({ model: c.deployment, stream: true, messages, max_tokens: CHUNKS, ...c.options }),
      upstream: { kind: 'openai', model: 'bench-upstream' },
      contentType: 'text/event-stream',
      lines: openai,
    }),
  ),
];

const bytesOf = (out: Buffer | string): Buffer => (typeof out === 'string' ? Buffer.from(out, 'utf8') : out);

function oneStream(c: Case, hash?: ReturnType<typeof createHash>): number {
  const answer = planTranslation(c.meta, c.body, c.upstream).translate(200, c.contentType);
  let bytes = 0;
  for (const l of c.lines) {
    const b = bytesOf(answer.push(l));
    hash?.update(b);
    bytes += b.length;
  }
  const b = bytesOf(answer.end());
  hash?.update(b);
  if (answer.usage() === undefined) throw new Error(`${c.name}: no usage`);
  return bytes + b.length;
}

for (const c of cases) {
  // The output of one stream, to check that optimisations leave the bytes as they were.
  const hash = createHash('sha256');
  oneStream(c, hash);
  const digest = hash.digest('hex').slice(0, 16);
  let best = Infinity;
  let bytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    for (let s = 0; s < STREAMS; s++) bytes = oneStream(c);
    const used = process.cpuUsage(c0);
    best = Math.min(best, (used.user + used.system) / (STREAMS * CHUNKS));
  }
  process.stdout.write(`${c.name}: ${best.toFixed(3)} µs CPU per chunk (best of ${ROUNDS} rounds of ${STREAMS}x${CHUNKS}); ${bytes} bytes per stream, sha256 ${digest}\n`);
}
