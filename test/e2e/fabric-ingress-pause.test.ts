// A paused ingress process (SIGSTOP/SIGCONT: what a starved CPU or a long GC pause does to it, longer than the stall
// timeout) must not fail the streams it carries: the terminator kept sending, the frames wait in the NATS socket, and
// the stall check reads them before it judges any stream silent. (Seen in the chaos run: five streams on one ingress
// failed at the same instant with tunnel_lost while another process started on the loaded machine.)
import t from 'tap';
import { TestFabric, slowScript, within } from '../support/index.js';

/** Longer than the default stall timeout (900 ms) and its sweep. */
const PAUSE_MS = 1_500;

t.test('an ingress paused longer than the stall timeout: its stream carries on, byte for byte', async (t) => {
  const f = await TestFabric.start(t);
  const [ingress, terminator, up] = await Promise.all([f.ingress(), f.terminator(), f.upstream()]);
  await f.connector('model-a', up, terminator.url);
  const script = slowScript(40, 50, 'paused');
  up.script = () => script;

  const client = f.client(ingress);
  const stream = await client.chat.completions.create({ model: 'model-a', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const it = stream[Symbol.asyncIterator]();
  let text = '';
  // The first chunk: the stream is under way on every hop.
  for (;;) {
    const first = await within(it.next(), 10_000, 'the first chunk');
    if (first.value.done) break;
    text += first.value.value.choices[0]?.delta.content ?? '';
    if (text) break;
  }
  ingress.proc.signal('SIGSTOP');
  await new Promise((r) => setTimeout(r, PAUSE_MS)); // the fault itself: the process does not run for this long
  ingress.proc.signal('SIGCONT');

  for (;;) {
    const n = await it.next();
    if (n.done) break;
    text += n.value.choices[0]?.delta.content ?? '';
  }
  t.equal(text, script.chunks.join(''), 'the whole answer, byte for byte');
  t.equal(up.requests.length, 1, 'one model request');
  t.ok(up.requests[0]?.finished && !up.requests[0]?.aborted, 'the model request ran to its end (nothing was cancelled)');
});
