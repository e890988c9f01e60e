// Issue item 10: a 5 MB request body crosses a NATS with the default 1 MB max_payload and reaches the model byte for
// byte; bodies around the inline/chunked boundary too; and multi-megabyte answers come back whole. Then the same over
// a NATS whose max_payload (8 MB) exceeds what a tunnel frame may be: the terminator splits an inline body into
// tunnel-sized frames, and the connector sizes its Data frames to the limit the terminator announced in Welcome.
import t, { type Test } from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { MIN_TUNNEL_FRAME_BYTES } from '@tokios/shared/protocol';
import { TestFabric, quickScript } from '../support/index.js';

/** Deterministic text of about `bytes` UTF-8 bytes with multi-byte characters, so chunk cuts land inside them. */
function bulkyText(bytes: number): string {
  const alphabet = ['a', 'b', 'Z', ' ', '\n', '"', '\\', 'é', 'ß', '漢', '字', '🙂', '𝄞', '\u0000', '\u2028'];
  let seed = 42;
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const ch = alphabet[seed % alphabet.length]!;
    parts.push(ch);
    n += Buffer.byteLength(ch);
  }
  return parts.join('');
}

t.test('large bodies through a 1 MB max_payload NATS', async (t) => {
  const f = await TestFabric.start(t);
  const probe = await connect({ servers: f.natsUrl });
  const maxPayload = probe.info?.max_payload ?? 0;
  await probe.close();
  t.equal(maxPayload, 1024 * 1024, 'NATS runs with the default 1 MB max_payload');

  const [ingress, term, up] = await Promise.all([f.ingress(), f.terminator(), f.upstream()]);
  // The upstream is told to use the deployment's own name, so no `model` rewrite happens and the connector
  // forwards the caller's bytes untouched.
  await f.connector('model-a', up, term.url, { model: 'model-a' });
  up.script = () => quickScript('got it');

  const sent: Buffer[] = [];
  const client = f.client(ingress, {
    fetch: async (url: string | URL | Request, init?: RequestInit) => {
      if (typeof init?.body === 'string') sent.push(Buffer.from(init.body, 'utf8'));
      return fetch(url, init);
    },
  });

  const roundTrip = async (t: Test, content: string, label: string): Promise<void> => {
    const before = up.requests.length;
    const res = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content }] });
    t.equal(res.choices[0]?.message.content, 'got it', `${label}: answered`);
    t.equal(up.requests.length, before + 1, `${label}: one upstream request`);
    const got = up.requests.at(-1)!.raw;
    const want = sent.at(-1)!;
    t.equal(got.length, want.length, `${label}: ${want.length} bytes arrived`);
    t.ok(got.equals(want), `${label}: byte-identical`);
  };

  await t.test('5 MB body, multi-byte characters', async (t) => {
    await roundTrip(t, bulkyText(5 * 1024 * 1024), '5 MB');
    t.ok(sent.at(-1)!.length > 5 * 1024 * 1024, 'the body really was over 5 MB');
  });

  await t.test('bodies around the inline / chunked boundary', async (t) => {
    const envelope = JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: '' }] }).length;
    const inlineMax = maxPayload - 16 * 1024;
    for (const total of [inlineMax - 1, inlineMax, inlineMax + 1, maxPayload - 1, maxPayload, maxPayload + 1, 2 * inlineMax, 2 * inlineMax + 1]) {
      await roundTrip(t, 'x'.repeat(total - envelope), `${total} bytes`);
      t.equal(sent.at(-1)!.length, total, `${total}: the SDK sent exactly that`);
    }
  });

  await t.test('multi-megabyte answers, whole and streamed', async (t) => {
    const big = bulkyText(3 * 1024 * 1024);
    up.script = () => ({ ...quickScript(big), chunks: [big.slice(0, 1000), big.slice(1000)] });
    const res = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'big please' }] });
    t.ok(res.choices[0]?.message.content === big, 'non-streamed 3 MB answer intact');
    const stream = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'big please' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    t.ok(text === big, 'streamed 3 MB answer intact');
  });
});

t.test('an inline body larger than a tunnel frame, through an 8 MB max_payload NATS', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tokios-nats-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const conf = join(dir, 'nats.conf');
  await writeFile(conf, 'max_payload: 8MB\n');
  const f = await TestFabric.start(t, { natsArgs: ['-c', conf] });
  const probe = await connect({ servers: f.natsUrl });
  const maxPayload = probe.info?.max_payload ?? 0;
  await probe.close();
  t.equal(maxPayload, 8 * 1024 * 1024, 'NATS runs with an 8 MB max_payload');

  // The terminator accepts frames of 128 KiB only, below the connector's 256 KiB Data frames and 1 MiB limit.
  const [ingress, term, up] = await Promise.all([f.ingress(), f.terminator({ TOKIOS_MAX_FRAME_BYTES: String(MIN_TUNNEL_FRAME_BYTES) }), f.upstream()]);
  await f.connector('model-a', up, term.url, { model: 'model-a' });
  up.script = () => quickScript('got it');

  const sent: Buffer[] = [];
  const client = f.client(ingress, {
    fetch: async (url: string | URL | Request, init?: RequestInit) => {
      if (typeof init?.body === 'string') sent.push(Buffer.from(init.body, 'utf8'));
      return fetch(url, init);
    },
  });
  const res = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: bulkyText(5 * 1024 * 1024) }] });
  t.equal(res.choices[0]?.message.content, 'got it', 'answered');
  const want = sent.at(-1)!;
  t.ok(want.length > 5 * 1024 * 1024 && want.length < maxPayload - 16 * 1024, `the ${want.length}-byte body travels inline on NATS`);
  t.ok(up.requests.at(-1)!.raw.equals(want), 'and reaches the model byte-identical');

  const big = bulkyText(1024 * 1024);
  up.script = () => ({ ...quickScript(big), chunks: [big.slice(0, 1000), big.slice(1000)] });
  const whole = await client.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'big please' }] });
  t.ok(whole.choices[0]?.message.content === big, 'a 1 MB answer in Data frames under the announced 128 KiB limit, whole');
  const stream = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'big please' }] });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  t.ok(text === big, 'and streamed');
  t.notMatch(term.proc.output, /terminating tunnel|tunnel closed/, 'the tunnel stayed up throughout');
});
