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
import { Agent } from 'undici';
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
const DONE = Buffer.from('data: [DONE]');

/** Reads the emit stamps out of one piece of SSE (a stamp split across pieces is finished with the next one). */
function scan(buf: Buffer, limit: number, at: number): void {
  let i = buf.indexOf(MARK);
  while (i >= 0 && i < limit) {
    const start = i + MARK.length;
    const end = buf.indexOf(0x20, start);
    if (end < 0 || end >= limit) break;
    const emit = Number(buf.toString('latin1', start, end));
    latencies.push(at - emit);
    emits.push(emit);
    i = buf.indexOf(MARK, end);
  }
}

/**
 * One stream, on undici's dispatch handlers (a callback per piece of body, no stream object and no promise per
 * piece): the load generator shares the machine with what it measures, and a client that costs as much as the
 * ingress (73 µs per chunk through `request()` and an async iterator) both slows the chain and adds its own lag.
 */
function one(): Promise<void> {
  return new Promise((resolve) => {
    let status = 0;
    let first = true;
    let carry: Buffer | undefined;
    let done = false;
    let last: Buffer | undefined;
    let errorText = '';
    const fail = (why: string): void => {
      errors++;
      firstError ||= why;
      settled();
      resolve();
    };
    agent.dispatch({ origin: base!, path: '/v1/chat/completions', method: 'POST', headers, body }, {
      onConnect() {},
      onHeaders(statusCode) {
        status = statusCode;
        return true;
      },
      onData(piece) {
        const at = nowMicros();
        if (status !== 200) {
          if (errorText.length < 200) errorText += piece.toString('utf8');
          return true;
        }
        if (first) {
          first = false;
          opened++;
          settled();
        }
        // Keep the unfinished tail of a line for the next piece, so a stamp cut in two is still read whole.
        const buf = carry ? Buffer.concat([carry, piece]) : piece;
        const nl = buf.lastIndexOf(0x0a);
        if (nl >= 0) scan(buf, nl + 1, at);
        carry = nl >= 0 ? (nl + 1 < buf.length ? Buffer.from(buf.subarray(nl + 1)) : undefined) : Buffer.from(buf);
        if (!done && buf.includes(DONE)) done = true;
        last = buf;
        return true;
      },
      onComplete() {
        if (status !== 200) return fail(`HTTP ${status}: ${errorText.slice(0, 200)}`);
        if (!done) return fail(`stream ended without [DONE]: ${JSON.stringify(last?.toString('utf8', Math.max(0, last.length - 300)) ?? '')}`);
        ok++;
        resolve();
      },
      onError(err) {
        fail(err.message);
      },
    });
  });
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
