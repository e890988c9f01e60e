import autocannon from 'autocannon';
import { Agent, request } from 'undici';

export interface Target {
  url: string;
  headers: Record<string, string>;
}

export interface FixedResult {
  /** Raw latencies (ms) of the 2xx answers, for merging slices; left out of the JSON. */
  latencies?: number[];
  seconds: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Closed-loop load with autocannon: `connections` keep-alive connections, one request in flight on each.
 * Latencies are kept in µs precision (autocannon's own histogram rounds to whole milliseconds).
 */
export function fixedLoad(target: Target, body: string, connections: number, seconds: number): Promise<FixedResult> {
  return new Promise((resolve, reject) => {
    const lat: number[] = [];
    let ok = 0;
    const started = performance.now();
    const inst = autocannon(
      { url: target.url, method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body, connections, duration: seconds, pipelining: 1, timeout: 10 },
      (err, r) => {
        if (err) return reject(err);
        const elapsed = (performance.now() - started) / 1000;
        const sorted = Float64Array.from(lat).sort();
        resolve({ latencies: lat, seconds: elapsed, requests: ok, rps: ok / elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), errors: r.errors + r.timeouts, non2xx: r.non2xx });
      },
    );
    inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) {
        ok++;
        lat.push(ms);
      }
    });
  });
}

export interface StreamResult {
  /** Raw times to first chunk (ms), for merging slices; left out of the JSON. */
  ttfc?: number[];
  streams: number;
  /** SSE events received (data: lines), all streams. */
  chunks: number;
  chunksPerSec: number;
  ttfcP50: number;
  ttfcP99: number;
  errors: number;
  seconds: number;
}

const NLNL = Buffer.from('\n\n');

/**
 * `parallel` concurrent streamed requests, each replaced as soon as it ends, for `seconds`; then waits for the
 * streams in flight to finish. Counts SSE events ("\n\n"-terminated) and the time to the first body bytes.
 */
export async function streamLoad(target: Target, body: string, parallel: number, seconds: number): Promise<StreamResult> {
  const agent = new Agent({ connections: parallel, pipelining: 1, keepAliveTimeout: 30_000 });
  const ttfc: number[] = [];
  let chunks = 0;
  let streams = 0;
  let errors = 0;
  const started = performance.now();
  const stopAt = started + seconds * 1000;
  const headers = { 'content-type': 'application/json', ...target.headers };

  const one = async (): Promise<void> => {
    const t0 = performance.now();
    const res = await request(target.url, { method: 'POST', headers, body, dispatcher: agent });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`status ${res.statusCode}`);
    }
    let first = true;
    let prevNl = false;
    let n = 0;
    for await (const c of res.body as AsyncIterable<Buffer>) {
      if (first) {
        ttfc.push(performance.now() - t0);
        first = false;
      }
      if (prevNl && c[0] === 0x0a) n++;
      let i = c.indexOf(NLNL);
      while (i !== -1) {
        n++;
        i = c.indexOf(NLNL, i + 2);
      }
      prevNl = c[c.length - 1] === 0x0a && c[c.length - 2] !== 0x0a;
    }
    chunks += n;
    streams++;
  };

  errors += await runWorkers(parallel, stopAt, one);
  const secs = (performance.now() - started) / 1000;
  await agent.close();
  const sorted = Float64Array.from(ttfc).sort();
  return { ttfc, streams, chunks, chunksPerSec: chunks / secs, ttfcP50: percentile(sorted, 50), ttfcP99: percentile(sorted, 99), errors, seconds: secs };
}

/** One result from several measured slices of the same load. */
export function mergeFixed(parts: FixedResult[]): FixedResult {
  const lat = parts.flatMap((p) => p.latencies ?? []);
  const sorted = Float64Array.from(lat).sort();
  const seconds = parts.reduce((n, p) => n + p.seconds, 0);
  const requests = parts.reduce((n, p) => n + p.requests, 0);
  return {
    seconds, requests, rps: requests / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99),
    errors: parts.reduce((n, p) => n + p.errors, 0), non2xx: parts.reduce((n, p) => n + p.non2xx, 0),
  };
}

export function mergeStreams(parts: StreamResult[]): StreamResult {
  const sorted = Float64Array.from(parts.flatMap((p) => p.ttfc ?? [])).sort();
  const seconds = parts.reduce((n, p) => n + p.seconds, 0);
  const chunks = parts.reduce((n, p) => n + p.chunks, 0);
  return {
    streams: parts.reduce((n, p) => n + p.streams, 0), chunks, chunksPerSec: chunks / seconds,
    ttfcP50: percentile(sorted, 50), ttfcP99: percentile(sorted, 99), errors: parts.reduce((n, p) => n + p.errors, 0), seconds,
  };
}

/** A streamed request in one caller protocol, with what marks one content chunk and a complete answer. */
export interface ProtocolTarget extends Target {
  body: string;
  /** Bytes that occur once per content chunk (and nowhere else) in the answer. */
  chunkMarker: Buffer;
  /** Bytes that occur once, at the end of a complete answer. */
  doneMarker: Buffer;
  /** Content chunks a complete answer has. */
  expectChunks: number;
}

/** OpenAI Chat SSE: one `"delta":{"content":"…"}` event per content chunk (the role and finish chunks have none), then `[DONE]`. */
export const OPENAI_CHAT_MARKERS = { chunkMarker: Buffer.from('"delta":{"content":"'), doneMarker: Buffer.from('data: [DONE]\n\n') };
/** Anthropic Messages SSE: one `content_block_delta` event per content chunk, `message_stop` at the end. */
export const ANTHROPIC_MARKERS = { chunkMarker: Buffer.from('event: content_block_delta\n'), doneMarker: Buffer.from('event: message_stop\n') };

/** Counts a pattern in a byte stream that arrives in pieces (a match may straddle two pieces). */
class PatternCounter {
  count = 0;
  private tail: Buffer = Buffer.alloc(0);

  constructor(private readonly pattern: Buffer) {}

  push(c: Buffer): void {
    const p = this.pattern;
    if (this.tail.length > 0) {
      // Only matches that start in the tail and end in c: the rest are found in c itself.
      const seam = Buffer.concat([this.tail, c.subarray(0, p.length - 1)]);
      let i = seam.indexOf(p);
      while (i !== -1 && i < this.tail.length) {
        this.count++;
        i = seam.indexOf(p, i + 1);
      }
    }
    let i = c.indexOf(p);
    while (i !== -1) {
      this.count++;
      i = c.indexOf(p, i + p.length);
    }
    this.tail = Buffer.from(c.length >= p.length - 1 ? c.subarray(c.length - (p.length - 1)) : Buffer.concat([this.tail, c]).subarray(-(p.length - 1)));
  }
}

export interface ProtocolStreamResult extends StreamResult {
  /** Answers that ended without the done marker or with a content chunk count other than expected. */
  incomplete: number;
}

/**
 * Like streamLoad, for one caller protocol: `parallel` concurrent streamed requests, each replaced as soon as it
 * ends, for `seconds`, then the ones in flight finish. `chunks` counts content chunks only (OpenAI deltas with
 * content, Anthropic content_block_delta events), and each answer is checked for completeness.
 */
export async function protocolStreamLoad(target: ProtocolTarget, parallel: number, seconds: number): Promise<ProtocolStreamResult> {
  const agent = new Agent({ connections: parallel, pipelining: 1, keepAliveTimeout: 30_000 });
  const ttfc: number[] = [];
  let chunks = 0;
  let streams = 0;
  let errors = 0;
  let incomplete = 0;
  const started = performance.now();
  const stopAt = started + seconds * 1000;
  const headers = { 'content-type': 'application/json', ...target.headers };

  const one = async (): Promise<void> => {
    const t0 = performance.now();
    const res = await request(target.url, { method: 'POST', headers, body: target.body, dispatcher: agent });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`status ${res.statusCode}`);
    }
    const content = new PatternCounter(target.chunkMarker);
    const done = new PatternCounter(target.doneMarker);
    let first = true;
    for await (const c of res.body as AsyncIterable<Buffer>) {
      if (first) {
        ttfc.push(performance.now() - t0);
        first = false;
      }
      content.push(c);
      done.push(c);
    }
    chunks += content.count;
    streams++;
    if (done.count !== 1 || content.count !== target.expectChunks) incomplete++;
  };

  errors += await runWorkers(parallel, stopAt, one);
  const secs = (performance.now() - started) / 1000;
  await agent.close();
  const sorted = Float64Array.from(ttfc).sort();
  return { ttfc, streams, chunks, chunksPerSec: chunks / secs, ttfcP50: percentile(sorted, 50), ttfcP99: percentile(sorted, 99), errors, incomplete, seconds: secs };
}

export function mergeProtocolStreams(parts: ProtocolStreamResult[]): ProtocolStreamResult {
  return { ...mergeStreams(parts), incomplete: parts.reduce((n, p) => n + p.incomplete, 0) };
}

/** `parallel` workers repeat `one` until `stopAt`; returns how many calls failed (a worker gives up after 1000). */
async function runWorkers(parallel: number, stopAt: number, one: () => Promise<void>): Promise<number> {
  let errors = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < stopAt) {
        try {
          await one();
        } catch {
          errors++;
          if (errors > 1000) return;
        }
      }
    }),
  );
  return errors;
}
