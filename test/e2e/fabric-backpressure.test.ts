// Issue 8 finding 5: backpressure from a caller that stops reading to the model server. The ingress pauses the stream
// (Pause, over NATS to the terminator and over the tunnel to the connector), the connector stops reading the model
// server's answer, so the model server's writes block; the caller reading again resumes it and the stream completes
// byte-correct. Another request on the same tunnel keeps flowing meanwhile. Real chain: nats-server, ingress,
// terminator, connector processes; only the model server is scripted (it writes as fast as its socket takes bytes).
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { BulkUpstream, TestFabric, bulkContent, logLines, metric, scrape, until, type BulkStream, type IngressInfo, type Proc } from '../support/index.js';

const MiB = 1024 * 1024;
const EVENT_BYTES = 64 * 1024;

/** Resident memory of a process (Linux), in bytes. */
function rss(proc: Proc): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.child.pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/** A streamed chat request whose answer is not read until the test reads it (the response stays paused). */
function openStream(ingress: IngressInfo, apiKey: string, prompt: string): Promise<IncomingMessage> {
  const body = JSON.stringify({ model: 'model-bulk', stream: true, messages: [{ role: 'user', content: prompt }] });
  const url = new URL(`${ingress.baseURL}/chat/completions`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } },
      (res) => {
        res.pause(); // not flowing: once its buffer is full, the socket is not read
        resolve(res);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads the whole SSE answer and returns the content it streamed (the deltas, joined). */
async function readContent(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  let content = '';
  for (const event of Buffer.concat(parts).toString('utf8').split('\n\n')) {
    const data = event.startsWith('data: ') ? event.slice(6) : '';
    if (data === '' || data === '[DONE]') continue;
    const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
    if (!chunk.choices) throw new Error(`not a chunk: ${data.slice(0, 300)}`);
    content += chunk.choices[0]?.delta?.content ?? '';
  }
  return content;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const expected = (events: number): string => Array.from({ length: events }, (_, i) => bulkContent(i, EVENT_BYTES)).join('');

t.test('a caller that stops reading pauses the model server; reading again resumes it', async (t) => {
  const f = await TestFabric.start(t, { deployments: ['model-bulk'] });
  const up = await BulkUpstream.start(EVENT_BYTES);
  t.teardown(() => up.close());
  // Streams count against the answer cap too (32 MiB by default): this one is longer.
  const [ingress, term] = await Promise.all([f.ingress({ TOKIOS_MAX_ANSWER_BYTES: String(256 * MiB) }), f.terminator()]);
  // One tunnel, so the second request shares it with the paused one.
  const conn = await f.connector('model-bulk', up, term.url, { tunnels: 1, max_concurrency: 4 }, { LOG_LEVEL: 'debug' });

  // 96 MiB: far more than every buffer on the way (kernel sockets, tunnel, NATS, the ingress's unsent cap of 8 MiB).
  const EVENTS = 1536;
  const total = EVENTS * EVENT_BYTES;
  const rssBefore = rss(ingress.proc);
  const started = new Promise<BulkStream>((resolve) => up.once('request', resolve));
  const slow = await openStream(ingress, f.seeded.apiKey, `bulk ${EVENTS}`);
  const a = await started;

  let heldAt = 0;
  await t.test('the connector stops reading the model answer: the model server\'s writes block', async (t) => {
    await conn.waitFor(/caller not reading; model answer paused/, 60_000);
    await until(() => a.blocked, 60_000, "the model server's writes to block");
    heldAt = a.written;
    t.ok(heldAt < total / 2, `the model server wrote ${(heldAt / MiB).toFixed(1)} MiB of ${total / MiB} MiB before its writes blocked`);
    t.notOk(a.done, 'the stream is not over');
    const { samples } = await scrape(ingress.url);
    t.ok(metric(samples, 'tokios_ingress_stream_pauses_total') >= 1, 'the ingress counted the pause');
    const grown = rss(ingress.proc) - rssBefore;
    t.ok(grown < 80 * MiB, `ingress RSS grew by ${(grown / MiB).toFixed(1)} MiB while holding a paused stream`);
  });

  await t.test('a second request on the same tunnel flows while the first is paused', async (t) => {
    const events = 48; // 3 MiB
    const content = await readContent(await openStream(ingress, f.seeded.apiKey, `bulk ${events}`));
    t.equal(content.length, events * EVENT_BYTES, 'the whole second answer arrived');
    t.equal(sha(content), sha(expected(events)), 'byte-correct');
    t.equal(new Set(logLines(conn).filter((l) => l.msg === 'tunnel up').map((l) => l.tunnel)).size, 1, 'both requests used the one tunnel');
    t.notOk(a.done || a.seen.aborted, 'the first stream is still paused, not cancelled');
    // Once the connector stopped reading, only what the buffers on the way still took may have gone out. That is more
    // than the socket buffers between connector and model server: when the caller's kernel socket takes more, the
    // ingress's unsent bytes drain, it sends Unpause and, at once, Pause again (seen within 1 ms in the connector's
    // log), and each such cycle lets up to the unsent cap through. Measured 2026-12-02: 0-2.3 MiB on e2f2e92, 0-11.6
    // MiB on 9f2924a (machine load changes the cycles). Since then a quick re-pause holds the next Unpause 10-500 ms
    // (caller-flow.ts), which bounds the cycle rate. Still bounded: the model server's other 80+ MiB stay unsent.
    t.ok(a.written - heldAt < 16 * MiB, `the paused model server wrote ${a.written - heldAt} bytes more meanwhile`);
    t.comment(`pauses so far: ${metric((await scrape(ingress.url)).samples, 'tokios_ingress_stream_pauses_total')}`);
  });

  await t.test('the caller reads again: the stream resumes and completes byte-correct', async (t) => {
    t.teardown(() => {
      if (!a.done) t.comment(logLines(ingress.proc).filter((l) => /caller|request done/.test(String(l.msg))).map((l) => JSON.stringify(l)).join('\n'));
    });
    const content = await readContent(slow);
    t.ok(a.done, 'the model server finished its answer');
    t.equal(content.length, total, `all ${total / MiB} MiB arrived`);
    t.equal(sha(content), sha(expected(EVENTS)), 'byte-correct');
    const ok = (): number => logLines(ingress.proc).filter((l) => l.msg === 'request done' && l.outcome === 'ok').length;
    await until(() => ok() === 2, 10_000, 'the ingress to log both requests done, ok');
    t.notMatch(ingress.proc.output, /client_not_reading/, 'the paused stream was not cancelled');
    await conn.waitFor(/model answer resumed/);
  });
});
