/**
 * The connector's per-chunk translation path in isolation (no network): Ollama /api/chat NDJSON in, Anthropic
 * Messages SSE out, one upstream line per push (as the HTTP parser hands them over), the output turned into
 * bytes like the connector does. Prints CPU µs per chunk (best of several rounds), steadier than the full bench.
 *
 *   node bench/dist/micro-translate.js [streams=400]
 */
import { createHash } from 'node:crypto';
import { CALLERS, planTranslation } from '@tokios/shared/translate';

const STREAMS = Number(process.argv[2] ?? 400);
const CHUNKS = 1024;
const ROUNDS = 7;

const at = '2025-11-21T20:18:11.030123456Z';
const lines: Buffer[] = [];
for (let i = 0; i < CHUNKS; i++) {
  lines.push(Buffer.from(`{"model":"bench-upstream:latest","created_at":"${at}","message":{"role":"assistant","content":"tok${i % 10} "},"done":false}\n`));
}
lines.push(
  Buffer.from(
    `{"model":"bench-upstream:latest","created_at":"${at}","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":1,"load_duration":1,"prompt_eval_count":9,"prompt_eval_duration":1,"eval_count":${CHUNKS},"eval_duration":1}\n`,
  ),
);
const body = { model: 'bench-ollama', max_tokens: CHUNKS, stream: true, messages: [{ role: 'user', content: 'Count.' }] };

function oneStream(n: number, hash?: ReturnType<typeof createHash>): number {
  const plan = planTranslation({
    protocol: 'anthropic.messages', body, upstreamKind: 'ollama', upstreamModel: 'bench-upstream:latest', requestId: `r${n}`, deploymentName: 'bench-ollama', callers: CALLERS,
  });
  if (plan.passthrough) throw new Error('expected a translation');
  const t = plan.translator;
  let bytes = 0;
  for (const l of lines) {
    const b = Buffer.from(t.push(l), 'utf8');
    hash?.update(b);
    bytes += b.length;
  }
  const b = Buffer.from(t.end(), 'utf8');
  hash?.update(b);
  return bytes + b.length;
}

// The output of one stream, to check that optimisations leave the bytes as they were.
const hash = createHash('sha256');
oneStream(0, hash);
const digest = hash.digest('hex').slice(0, 16);

let best = Infinity;
let bytes = 0;
for (let r = 0; r < ROUNDS; r++) {
  const c0 = process.cpuUsage();
  for (let s = 0; s < STREAMS; s++) bytes = oneStream(s);
  const c = process.cpuUsage(c0);
  best = Math.min(best, (c.user + c.system) / (STREAMS * CHUNKS));
}
process.stdout.write(`translate Ollama NDJSON -> Anthropic SSE: ${best.toFixed(3)} µs CPU per chunk (best of ${ROUNDS} rounds of ${STREAMS}x${CHUNKS}); ${bytes} bytes per stream, sha256 ${digest}\n`);
