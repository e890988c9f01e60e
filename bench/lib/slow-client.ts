/**
 * The slow-stream phase's load generator (its own process): opens `streams` concurrent streamed chat completions
 * through the ingress, spread over `rampMs`, and for every content chunk takes arrival minus the emit time the
 * slow upstream wrote into it (`"content":"@<epoch µs>"`): the latency the whole chain added to that chunk.
 * Prints "open <n>" once every stream has its first byte (or failed), then one JSON line "result {…}" when all are done:
 * latency quantiles over every chunk, and over the steady state (chunks emitted once every stream was open, when
 * no request is being set up beside them), and the p99 per second of the run.
 *
 *   node slow-client.js <ingress url> <api key> <model> <streams> <ramp ms>
 */
import { Agent, request } from 'undici';
import { LoopWindow } from './loop-window.js';

const [base, apiKey, model, streamsArg, rampArg] = process.argv.slice(2);
const STREAMS = Number(streamsArg ?? 5000);
const RAMP_MS = Number(rampArg ?? 5000);
const nowMicros = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

// One connection per stream (no pipelining), however many.
const agent = new Agent({ connections: null, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
const body = JSON.stringify({ model, stream: true, max_tokens: 64, messages: [{ role: 'user', content: 'Slowly.' }] });
const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };

const latencies: number[] = [];
/** Emit times (µs) of the same chunks, to tell the ramp from the steady state. */
const emits: number[] = [];
const startedAt = nowMicros();
let opened = 0;
let ok = 0;
let errors = 0;
let firstError = '';
const MARK = Buffer.from('"content":"@');

/** Reads the emit stamps out of one piece of SSE (a stamp split across pieces is finished with the next one). */
function scan(buf: Buffer, at: number): void {
  let i = buf.indexOf(MARK);
  while (i >= 0) {
    const start = i + MARK.length;
    const end = buf.indexOf(0x20, start);
    if (end < 0) break;
    const emit = Number(buf.toString('latin1', start, end));
    latencies.push(at - emit);
    emits.push(emit);
    i = buf.indexOf(MARK, end);
  }
}

async function one(): Promise<void> {
  try {
    const res = await request(`${base}/v1/chat/completions`, { method: 'POST', headers, body, dispatcher: agent });
    if (res.statusCode !== 200) {
      errors++;
      settled();
      firstError ||= `HTTP ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`;
      return;
    }
    let first = true;
    let carry: Buffer | undefined;
    let done = false;
    let last = '';
    for await (const piece of res.body as AsyncIterable<Buffer>) {
      const at = nowMicros();
      if (first) {
        first = false;
        opened++;
        settled();
      }
      // Keep the unfinished tail of a line for the next piece, so a stamp cut in two is still read whole.
      const buf = carry ? Buffer.concat([carry, piece]) : piece;
      const nl = buf.lastIndexOf(0x0a);
      scan(nl >= 0 ? buf.subarray(0, nl + 1) : Buffer.alloc(0), at);
      carry = nl >= 0 ? (nl + 1 < buf.length ? Buffer.from(buf.subarray(nl + 1)) : undefined) : Buffer.from(buf);
      if (buf.includes('data: [DONE]')) done = true;
      last = buf.toString('utf8', Math.max(0, buf.length - 300));
    }
    if (done) ok++;
    else {
      errors++;
      firstError ||= `stream ended without [DONE]: ${JSON.stringify(last)}`;
    }
  } catch (err) {
    errors++;
    firstError ||= (err as Error).message;
    settled();
  }
}

/** Our own event-loop delay and GC once every stream is open: a client that lags adds to what it measures. */
let loop: LoopWindow | undefined;
let said = false;
/** When every stream was open: chunks emitted from then on are the steady state (no stream being set up). */
let steadyFrom = Infinity;
/** Every stream open (first byte) or failed: the moment the phase reads each tier's RSS "with all streams open". */
function settled(): void {
  if (!said && opened + errors >= STREAMS) {
    said = true;
    steadyFrom = nowMicros();
    loop = new LoopWindow();
    process.stdout.write(`open ${opened} errors ${errors}${firstError ? ` first: ${firstError}` : ""}\n`);
  }
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
}

/** Streams still running this long after the start are cut (and count as errors), so the phase always ends. */
const DEADLINE_MS = RAMP_MS + 60_000;

async function main(): Promise<void> {
  const all: Promise<void>[] = [];
  const cut = setTimeout(() => {
    firstError ||= `streams still running after ${DEADLINE_MS} ms were cut`;
    void agent.destroy();
  }, DEADLINE_MS);
  const t0 = performance.now();
  for (let i = 0; i < STREAMS; i++) {
    const due = t0 + (i * RAMP_MS) / STREAMS;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    all.push(one());
  }
  await Promise.all(all);
  clearTimeout(cut);
  const clientLoop = loop?.report();
  loop?.stop();
  const sorted = Float64Array.from(latencies).sort();
  const ms = (us: number): number => us / 1000;
  // p99 per second of emit time since the start: where in the run the slow chunks were.
  const bySecond: number[][] = [];
  for (let i = 0; i < latencies.length; i++) (bySecond[Math.max(0, Math.floor((emits[i]! - startedAt) / 1e6))] ??= []).push(latencies[i]!);
  const p99BySecond = bySecond.map((l) => (l ? ms(quantile(Float64Array.from(l).sort(), 0.99)) : NaN));
  const steady = Float64Array.from(latencies.filter((_, i) => emits[i]! >= steadyFrom)).sort();
  const result = {
    streams: STREAMS, ok, errors, firstError, chunks: sorted.length,
    p50Ms: ms(quantile(sorted, 0.5)), p99Ms: ms(quantile(sorted, 0.99)), p999Ms: ms(quantile(sorted, 0.999)), maxMs: ms(sorted[sorted.length - 1] ?? NaN),
    steadyChunks: steady.length, steadyP50Ms: ms(quantile(steady, 0.5)), steadyP99Ms: ms(quantile(steady, 0.99)), steadyMaxMs: ms(steady[steady.length - 1] ?? NaN),
    seconds: (performance.now() - t0) / 1000, p99BySecond, ...(clientLoop ? { clientLoop } : {}),
  };
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
  await agent.close().catch(() => undefined);
}

void main();
process.on('SIGTERM', () => process.exit(0));
